//! Compiles `cosx/v1/*.proto` with protox (pure Rust, no system `protoc`),
//! generates messages and services with tonic-prost-build, proto3 JSON with
//! pbjson, and writes the descriptor set used by server reflection and by
//! the HTTP/JSON face (which reads the `google.api.http` annotations).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "cosx/v1/common.proto",
        "cosx/v1/registry.proto",
        "cosx/v1/records.proto",
        "cosx/v1/exchange.proto",
        "cosx/v1/quotes.proto",
        "cosx/v1/exceptions.proto",
        "cosx/v1/comments.proto",
        "cosx/v1/disruptions.proto",
        "cosx/v1/feed.proto",
        "cosx/v1/signals.proto",
        "cosx/v1/allocation.proto",
        "cosx/v1/node.proto",
        "cosx/v1/export.proto",
        "cosx/v1/webhooks.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-changed=google/api");
    let mut compiler = protox::Compiler::new(["."])?;
    compiler.include_source_info(true).include_imports(true).open_files(files)?;
    let fds = compiler.file_descriptor_set();
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    // Encoded by the compiler so that the `google.api.http` options (an
    // extension, which prost's types drop) stay in: the HTTP/JSON face
    // and the OpenAPI document are read from them.
    let bytes = compiler.encode_file_descriptor_set();
    std::fs::write(out.join("cosx_descriptor.bin"), &bytes)?;

    // The one map of the API in key order (and no hasher per message):
    // a metric's cost elements.
    let maps = [".cosx.v1.CostBreakdown.by_element"];
    tonic_prost_build::configure()
        .btree_map(maps[0])
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(fds)?;
    pbjson_build::Builder::new().register_descriptors(&bytes)?.btree_map(maps).build(&[".cosx"])?;
    Ok(())
}
