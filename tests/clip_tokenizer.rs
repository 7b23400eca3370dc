//! The CLIP tokenizer against open_clip: every string of `tests/fixtures/clip/tokens.json` (made by
//! `tools/make_clip_tokens.py` with `open_clip.tokenize`) must give exactly open_clip's 77 ids.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Instant;

use fastsam_web::clip::tokenizer::{CONTEXT_LENGTH, ClipTokenizer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<i64>,
}

fn fixture(name: &str) -> Vec<u8> {
    let path = common::fixtures().join("clip").join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run tools/make_clip_tokens.py)", path.display()))
}

fn cases() -> Vec<Case> {
    serde_json::from_slice(&fixture("tokens.json")).expect("tokens.json parses")
}

fn clip_tokenizer() -> ClipTokenizer {
    ClipTokenizer::from_bytes(&fixture("clip-bpe.txt.gz")).expect("CLIP vocabulary loads")
}

/// Compares every case, reporting all mismatches at once.
fn check_all(tok: &ClipTokenizer, cases: &[Case]) -> usize {
    let mut failures = Vec::new();
    for case in cases {
        assert_eq!(
            case.ids.len(),
            CONTEXT_LENGTH,
            "fixture row for {:?}",
            case.text
        );
        let got = tok.tokenize(&case.text);
        if got != case.ids {
            let first = got
                .iter()
                .zip(&case.ids)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            failures.push(format!(
                "{:?}\n  cleaned: {:?}\n  first difference at slot {first}\n  open_clip: {:?}\n  ours:      {:?}",
                case.text,
                fastsam_web::clip::tokenizer::clean(&case.text),
                case.ids,
                got
            ));
        }
    }
    let passed = cases.len() - failures.len();
    assert!(
        failures.is_empty(),
        "{} of {} strings differ from open_clip:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    passed
}

#[test]
fn matches_open_clip_on_every_fixture_string() {
    let tok = clip_tokenizer();
    assert_eq!(tok.vocab_size(), 49408);
    let cases = cases();
    assert!(cases.len() >= 200, "only {} fixture strings", cases.len());
    let passed = check_all(&tok, &cases);
    eprintln!(
        "clip tokenizer: {passed} / {} strings identical to open_clip",
        cases.len()
    );
}

#[test]
fn encode_is_the_unpadded_middle_of_tokenize() {
    let tok = clip_tokenizer();
    for case in cases() {
        let ids = tok.encode(&case.text);
        let row = tok.tokenize(&case.text);
        let kept = ids.len().min(CONTEXT_LENGTH - 2);
        let middle: Vec<i64> = ids[..kept].iter().map(|&id| i64::from(id)).collect();
        assert_eq!(&row[1..=kept], &middle[..], "{:?}", case.text);
        assert_eq!(row[kept + 1], 49407, "{:?}", case.text);
    }
}

#[test]
fn plain_and_hugging_face_merges_give_the_same_tokens() {
    // The gzip's member header is 10 bytes (no optional fields) and its trailer 8.
    let gz = fixture("clip-bpe.txt.gz");
    let text = miniz_oxide::inflate::decompress_to_vec(&gz[10..gz.len() - 8]).expect("inflate");
    let text = String::from_utf8(text).expect("UTF-8");
    let merges: Vec<&str> = text.split('\n').skip(1).take(48894).collect();
    let hf = format!("#version: 0.2\n{}\n", merges.join("\n"));
    let tok_hf = ClipTokenizer::from_bytes(hf.as_bytes()).expect("merges.txt loads");
    let tok_plain = ClipTokenizer::from_bytes(text.as_bytes()).expect("plain text loads");
    assert_eq!(tok_hf.vocab_size(), 49408);
    assert_eq!(tok_plain.vocab_size(), 49408);
    let cases = cases();
    check_all(&tok_hf, &cases);
    check_all(&tok_plain, &cases);
}

#[test]
fn timings() {
    let bytes = fixture("clip-bpe.txt.gz");
    let start = Instant::now();
    let tok = ClipTokenizer::from_bytes(&bytes).expect("loads");
    let load = start.elapsed();
    let sentences = [
        "a photo of a dog",
        "the red car parked on the left side of the street",
        "Two people sitting on a bench, talking & laughing!",
    ];
    let rounds = 200;
    let start = Instant::now();
    for _ in 0..rounds {
        for s in sentences {
            std::hint::black_box(tok.tokenize(std::hint::black_box(s)));
        }
    }
    let per_sentence = start.elapsed() / (rounds * sentences.len() as u32);
    let long = "这是一只在公园里奔跑的狗".repeat(300);
    let start = Instant::now();
    let n = tok.encode(&long).len();
    let long_time = start.elapsed();
    eprintln!(
        "clip tokenizer: vocabulary load {load:?}, tokenize {per_sentence:?} per sentence, \
         encode of {} CJK chars (one piece, {n} ids) {long_time:?}",
        long.chars().count()
    );
    // Generous bounds (debug-ish test profile, shared CI machine); the report gives release numbers.
    assert!(load.as_millis() < 2000, "vocabulary load took {load:?}");
    assert!(
        per_sentence.as_micros() < 5000,
        "tokenize took {per_sentence:?}"
    );
}
