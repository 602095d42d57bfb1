//! `unpack LAYER.tar DEST`: unpack one layer the way the unpacked-layer store does.
//! For bench/ch04-unpack.sh, which races it against GNU tar.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [layer, dest] = args.as_slice() else {
        eprintln!("usage: unpack LAYER.tar DEST");
        std::process::exit(2);
    };
    let result = std::fs::File::open(layer)
        .map_err(|e| e.to_string())
        .and_then(|file| {
            cratebox_image::unpack::unpack_layer(
                std::io::BufReader::new(file),
                std::path::Path::new(dest),
            )
            .map_err(|e| e.to_string())
        });
    if let Err(error) = result {
        eprintln!("unpack: {error}");
        std::process::exit(1);
    }
}
