//! Rows of bad inputs for plugins of your own in the phases beside `run` (footprint, failure
//! --crash-on, lifecycle, ab --base-plugin/--new-plugin): each refused before Envoy is located.

/// (arguments, what stderr must name); `T/` is the inputs' folder.
pub const ROWS: &[(&[&str], &str)] = &[
    (&["footprint", "--plugin", "T/nope.wasm"], "T/nope.wasm"),
    (&["footprint", "--request", "T/request.toml"], "--request"),
    (
        &[
            "footprint",
            "--plugin",
            "T/mod.wasm",
            "--request",
            "T/junk.json",
        ],
        "--request T/junk.json",
    ),
    (&["failure", "--plugin", "T/nope.wasm"], "T/nope.wasm"),
    (&["lifecycle", "--plugin", "T/nope.wasm"], "T/nope.wasm"),
    (&["lifecycle", "--request", "T/request.toml"], "--request"),
    (
        &[
            "lifecycle",
            "--plugin",
            "T/mod.wasm",
            "--expect-header",
            "a b",
        ],
        "--expect-header",
    ),
    (&["failure", "--request", "T/request.toml"], "--request"),
    (
        &["failure", "--crash-on", "T/request.toml"],
        "--crash-on T/request.toml",
    ),
    (
        &[
            "failure",
            "--plugin",
            "T/mod.wasm",
            "--crash-on",
            "T/junk.json",
        ],
        "--crash-on T/junk.json",
    ),
    (
        &[
            "failure",
            "--plugin",
            "T/mod.wasm",
            "--crash-on",
            "T/nope.toml",
        ],
        "--crash-on T/nope.toml",
    ),
    (
        &[
            "failure",
            "--plugin",
            "T/mod.wasm",
            "--crash-on",
            "T/bad-request.toml",
        ],
        "--crash-on T/bad-request.toml",
    ),
    (&["ab", "--base-plugin", "T/mod.wasm"], "--new-plugin"),
    (&["ab", "--new-plugin", "T/mod.wasm"], "--base-plugin"),
    (
        &[
            "ab",
            "--base-plugin",
            "T/nope.wasm",
            "--new-plugin",
            "T/mod.wasm",
        ],
        "--base-plugin T/nope.wasm",
    ),
    (
        &[
            "ab",
            "--base-plugin",
            "T/mod.wasm",
            "--new-plugin",
            "T/junk.json",
        ],
        "--new-plugin T/junk.json",
    ),
    (
        &[
            "ab",
            "--base-plugin",
            "T/mod.wasm",
            "--new-plugin",
            "T/mod.wasm",
            "--base",
            "HEAD",
        ],
        "--base-plugin",
    ),
    (
        &[
            "ab",
            "--base-plugin",
            "T/mod.wasm",
            "--new-plugin",
            "T/mod.wasm",
            "--only",
            "rust",
        ],
        "--only",
    ),
    (
        &[
            "ab",
            "--base-plugin",
            "T/mod.wasm",
            "--new-plugin",
            "T/mod.wasm",
            "--request",
            "T/junk.json",
        ],
        "--request T/junk.json",
    ),
    (
        &["ab", "--base", "HEAD", "--request", "T/request.toml"],
        "--request",
    ),
];
