//! Compiles `cosx/v1/*.proto` with protox (pure Rust, no system `protoc`),
//! generates messages and services with tonic-prost-build, proto3 JSON with
//! pbjson, and writes the descriptor set used by server reflection.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "cosx/v1/common.proto",
        "cosx/v1/registry.proto",
        "cosx/v1/records.proto",
        "cosx/v1/exchange.proto",
        "cosx/v1/feed.proto",
        "cosx/v1/signals.proto",
        "cosx/v1/allocation.proto",
        "cosx/v1/node.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let fds = protox::compile(files, ["."])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let bytes = prost::Message::encode_to_vec(&fds);
    std::fs::write(out.join("cosx_descriptor.bin"), &bytes)?;

    tonic_prost_build::configure()
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(fds)?;
    pbjson_build::Builder::new().register_descriptors(&bytes)?.build(&[".cosx"])?;
    Ok(())
}
