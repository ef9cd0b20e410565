//! The figures the Higress article claims, to print beside ours.
//!
//! The article gives about 0.2 ms of added latency per request for every language. Those figures
//! come from a vendor table whose workload adds, reads and removes 20 request headers (our
//! `headers` workload), not the mock reply; the report shows them next to both of our workloads
//! and always labels them as the article's claim.

/// One claimed figure: the language as the article names it and its overhead in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Claim {
    pub language: &'static str,
    pub overhead_us: f64,
}

/// (the row's implementation id, the article's name, claimed overhead µs), in the article's order.
/// The ids are folder names under `plugins/` (see `VariantSummary::implementation`). The article's Go
/// plugin was written on Higress's wrapper (wasm-go), so its Go row is our `go-higress`.
const CLAIMS: [(&str, &str, f64); 5] = [
    ("lua", "Lua", 200.0),
    ("cpp", "C++", 190.0),
    ("go-higress", "Go", 200.0),
    ("rust", "Rust", 210.0),
    ("assemblyscript", "AssemblyScript", 210.0),
];

/// One line saying where the figures come from, for captions and footnotes.
pub const SOURCE: &str = "The article's claim: about 0.2 ms of added latency per request (Lua 0.20, C++ 0.19, Go 0.20, \
Rust 0.21, AssemblyScript 0.21 ms), quoted from a vendor table whose workload adds, reads and removes 20 request headers. \
It is shown beside both of our workloads; it is their figure, not a measurement of this run.";

/// The article's figure for one of our implementation ids (exact match; `baseline` and
/// implementations the article does not cover have none).
pub fn claim_for(implementation: &str) -> Option<Claim> {
    // The article claims one figure per language: our plain-SDK Go plugin is shown beside the same
    // Go figure as the wrapper one it was measured with.
    let row = match implementation {
        "go" => "go-higress",
        other => other,
    };
    CLAIMS
        .iter()
        .find(|(id, _, _)| *id == row)
        .map(|&(_, name, us)| Claim {
            language: name,
            overhead_us: us,
        })
}

/// Every claim, in the article's order.
pub fn all() -> impl Iterator<Item = Claim> {
    CLAIMS.iter().map(|&(_, name, us)| Claim {
        language: name,
        overhead_us: us,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implementations_map_to_the_article_figures() {
        assert_eq!(claim_for("rust").unwrap().overhead_us, 210.0);
        assert_eq!(claim_for("rust").unwrap().language, "Rust");
        assert_eq!(claim_for("cpp").unwrap().language, "C++");
        assert_eq!(claim_for("cpp").unwrap().overhead_us, 190.0);
        assert_eq!(claim_for("go-higress").unwrap().language, "Go");
        assert_eq!(claim_for("go-higress").unwrap().overhead_us, 200.0);
        assert_eq!(claim_for("lua").unwrap().overhead_us, 200.0);
        assert_eq!(claim_for("assemblyscript").unwrap().overhead_us, 210.0);
        // The article's Go figure (measured on the wrapper) is shown beside both Go plugins.
        assert_eq!(claim_for("go").unwrap().language, "Go");
        assert_eq!(claim_for("baseline"), None);
        assert_eq!(claim_for("none"), None);
        assert_eq!(claim_for("gopher"), None);
        assert_eq!(claim_for("go_tinygo"), None);
        assert_eq!(all().count(), 5);
    }
}
