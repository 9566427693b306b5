#!/usr/bin/env bash
# conda-build's build script of agemark (recipes/agemark/meta.yaml): the release binary from the
# source tarball, with the Rust compiler of the build environment (conda_build_config.yaml pins
# its version to Cargo.toml's rust-version) and the dependencies of Cargo.lock (--locked).
set -euxo pipefail

# The licences of every crate compiled in, shipped as about/license_file THIRDPARTY.yml.
cargo-bundle-licenses --format yaml --output THIRDPARTY.yml

# Cargo.toml's release profile (thin LTO); strip the symbols from the installed binary.
export CARGO_PROFILE_RELEASE_STRIP=symbols
cargo install --locked --no-track --root "${PREFIX}" --path .
