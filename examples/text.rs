//! The text prompt on one image: segments a PNG with a FastSAM export, embeds every mask's region
//! with CLIP, then scores sentences; prints the best mask per sentence and how long each step took.
//!
//! `cargo run --release --example text -- FASTSAM.onnx IMAGE.png CLIP_DIR "a dog" ["a cat" ...]`
//!
//! `CLIP_DIR` holds `clip-image.onnx`, `clip-text.onnx` and `clip-bpe.txt.gz` (tools/clip_export.py).
//! Set `ENGINE=burn` to run CLIP on the Burn port (flex CPU backend) instead of tract.

use std::path::Path;
use std::time::Instant;

use fastsam_web::clip::{Clip, TextOptions, regions};
use fastsam_web::{FastSam, ImageView, PixelFormat, SegmentOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: text FASTSAM.onnx IMAGE.png CLIP_DIR SENTENCE...");
        std::process::exit(2);
    }
    let model = FastSam::from_onnx(&std::fs::read(&args[1])?)?;
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&args[2])?));
    let mut reader = decoder.read_info()?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf)?;
    let format = match info.color_type {
        png::ColorType::Rgb => PixelFormat::Rgb,
        png::ColorType::Rgba => PixelFormat::Rgba,
        other => return Err(format!("unsupported PNG colour type {other:?}").into()),
    };
    let image = ImageView::new(&buf[..info.buffer_size()], info.width, info.height, format)?;
    let seg = model.segment(&image, &SegmentOptions::default())?;

    let dir = Path::new(&args[3]);
    let read = |name: &str| std::fs::read(dir.join(name));
    let t = Instant::now();
    let clip = if std::env::var("ENGINE").as_deref() == Ok("burn") {
        burn_clip(
            &read("clip-image.onnx")?,
            &read("clip-text.onnx")?,
            &read("clip-bpe.txt.gz")?,
        )?
    } else {
        Clip::from_onnx(
            &read("clip-image.onnx")?,
            &read("clip-text.onnx")?,
            &read("clip-bpe.txt.gz")?,
        )?
    };
    println!("loaded CLIP on {} in {:?}", clip.engine_name(), t.elapsed());

    let scored = regions::eligible(&seg).len();
    let t = Instant::now();
    let embedded = clip.embed_regions(&seg, &image)?;
    let regions_time = t.elapsed();
    println!(
        "{} masks, {scored} scored: region embeddings in {regions_time:?} ({:.1} ms per mask)",
        seg.len(),
        regions_time.as_secs_f64() * 1e3 / scored.max(1) as f64
    );
    let sentences: Vec<&str> = args[4..].iter().map(String::as_str).collect();
    for round in 0..2 {
        let t = Instant::now();
        let matches = clip.select(&embedded, &sentences, &TextOptions::default())?;
        println!(
            "round {round}: {} sentence(s) scored in {:?}",
            sentences.len(),
            t.elapsed()
        );
        if round == 1 {
            for (s, m) in sentences.iter().zip(&matches) {
                let best = m
                    .best()
                    .and_then(|b| m.scores.iter().find(|x| x.instance == b));
                match best {
                    Some(b) => println!(
                        "  {s:?}: mask {} (cosine {:.3}, probability {:.3})",
                        b.instance, b.cosine, b.probability
                    ),
                    None => println!("  {s:?}: no mask"),
                }
            }
        }
    }
    Ok(())
}

#[cfg(feature = "burn")]
fn burn_clip(image: &[u8], text: &[u8], vocab: &[u8]) -> fastsam_web::Result<Clip> {
    use fastsam_web::clip::ClipTokenizer;
    use fastsam_web::onnx::decode as decode_onnx;
    let engine = fastsam_web::clip::burn::BurnClip::from_protos(
        &decode_onnx(image)?,
        &decode_onnx(text)?,
        burn_tensor::Device::default(),
        "burn-flex",
    )?;
    Clip::with_engine(ClipTokenizer::from_bytes(vocab)?, Box::new(engine))
}

#[cfg(not(feature = "burn"))]
fn burn_clip(_image: &[u8], _text: &[u8], _vocab: &[u8]) -> fastsam_web::Result<Clip> {
    Err(fastsam_web::Error::InvalidOption(
        "this build has no Burn engine".into(),
    ))
}
