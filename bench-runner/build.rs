// Records how the runner itself was compiled, so results.json can say whether the load generator was optimised.
fn main() {
    for key in ["PROFILE", "OPT_LEVEL", "DEBUG"] {
        let v = std::env::var(key).unwrap_or_default();
        println!("cargo:rustc-env=BENCH_BUILD_{key}={v}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
