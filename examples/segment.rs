//! Segments a PNG with a FastSAM ONNX export and prints what was found and how long each stage took.
//!
//! `cargo run --release --example segment -- model.onnx image.png [low|ultralytics]`

use std::time::Instant;

use fastsam_web::{FastSam, ImageView, MaskResolution, PixelFormat, SegmentOptions, Semantics};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: segment MODEL.onnx IMAGE.png [low] [ultralytics]");
        std::process::exit(2);
    }
    let t = Instant::now();
    let model = FastSam::from_onnx(&std::fs::read(&args[1])?)?;
    println!(
        "loaded {} ({} px) in {:?}",
        args[1],
        model.input_size(),
        t.elapsed()
    );

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

    let mut options = SegmentOptions::default();
    for flag in &args[3..] {
        match flag.as_str() {
            "low" => options.mask_resolution = MaskResolution::Low,
            "ultralytics" => options.semantics = Semantics::Ultralytics,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    for round in 0..2 {
        let t0 = Instant::now();
        let (lb, input) = model.preprocess(&image);
        let t1 = Instant::now();
        let raw = model.infer(&input)?;
        let t2 = Instant::now();
        let seg = fastsam_web::pipeline::postprocess(&raw, &lb, &options);
        let t3 = Instant::now();
        println!(
            "round {round}: {} instances; preprocess {:?}, inference {:?}, postprocess {:?}",
            seg.len(),
            t1 - t0,
            t2 - t1,
            t3 - t2
        );
        if round == 1 {
            for (i, inst) in seg.instances().iter().take(5).enumerate() {
                println!(
                    "  #{i} score {:.4} box {:?} area {}",
                    inst.score,
                    inst.bbox,
                    inst.mask.area()
                );
            }
            let t = Instant::now();
            let picked = seg.points(
                &[[image.width() as f64 / 2.0, image.height() as f64 / 2.0]],
                &[1],
                Default::default(),
            )?;
            println!(
                "point prompt {:?} -> {} selection(s)",
                t.elapsed(),
                picked.len()
            );
            let options = fastsam_web::PolygonOptions::default();
            let t = Instant::now();
            let (mut rings, mut points, mut contour_points) = (0, 0, 0);
            for inst in seg.instances() {
                for p in inst.mask.polygons(&options)? {
                    rings += 1 + p.holes.len();
                    points += p.exterior.len() + p.holes.iter().map(Vec::len).sum::<usize>();
                }
            }
            let elapsed = t.elapsed();
            for inst in seg.instances() {
                contour_points += inst
                    .mask
                    .contours()
                    .iter()
                    .map(|c| c.points.len())
                    .sum::<usize>();
            }
            println!(
                "polygons of every mask (tolerance 1 px) {elapsed:?}: {rings} rings, {points} points ({contour_points} before simplifying)"
            );
        }
    }
    Ok(())
}
