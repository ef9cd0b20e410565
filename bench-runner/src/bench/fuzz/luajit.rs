//! The Lua implementation: the runner validates the configuration itself (`plugins::config`), writes
//! the filter script from the template (`plugins::lua`), and the script runs in a stand-alone LuaJIT
//! (the VM Envoy's Lua filter embeds) under a small shim of Envoy's request handle: `headers()`
//! (`get`, `add`, `remove`), `streamInfo():routeName()`, `respond(headers, body)`, `logInfo`.
//! One LuaJIT process runs a whole batch; each configuration's script is a fresh chunk.

use super::inputs::Input;
use super::target::{Outcome, Reply, Target};
use crate::error::usage;
use crate::plugins::{config, lua};
use std::io::Write;
use std::process::{Command, Stdio};

/// Reads the batch from stdin; writes one record per configuration (see `parse_output`).
const DRIVER: &str = r#"
local function line() return io.read("*l") end
local function bytes(n) if n == 0 then return "" end return io.read(n) end
local out = io.stdout
local function emit(tag, s) out:write(tag, " ", #s, "\n", s) end
local function handle(route, authority)
  local store, count = {[":authority"] = authority}, 1
  local hdrs, info, h = {}, {}, {}
  function hdrs:get(k) return store[k] end
  function hdrs:add(k, v)
    if store[k] == nil then count = count + 1; store[k] = v else store[k] = store[k] .. "," .. v end
  end
  function hdrs:remove(k) if store[k] ~= nil then count = count - 1 end; store[k] = nil end
  function info:routeName() return route end
  function h:headers() return hdrs end
  function h:streamInfo() return info end
  function h:respond(headers, body) h.reply = {headers[":status"], body or ""} end
  function h:logInfo(m) end
  return h, function() return count == 1 and store[":authority"] == authority end
end
local n = tonumber(line())
for _ = 1, n do
  local src = bytes(tonumber(line()))
  local reqs = {}
  for r = 1, tonumber(line()) do
    local rl, al = line():match("^(%d+) (%d+)$")
    local route = bytes(tonumber(rl))
    reqs[r] = {route, bytes(tonumber(al))}
  end
  local chunk, err = loadstring(src, "=filter.lua")
  local env = setmetatable({}, {__index = _G})
  local ok = chunk ~= nil
  if ok then setfenv(chunk, env); ok, err = pcall(chunk) end
  if not ok then emit("X", tostring(err)) else
    out:write("C ", #reqs, "\n")
    for r = 1, #reqs do
      local h, intact = handle(reqs[r][1], reqs[r][2])
      local done, e = pcall(env.envoy_on_request, h)
      if not done then emit("E", tostring(e))
      elseif h.reply then out:write("R ", tostring(h.reply[1]), "\n"); emit("B", h.reply[2])
      elseif not intact() then out:write("H\n")
      else out:write("P\n") end
    end
  end
end
"#;

pub struct LuaTarget {
    template: String,
}

impl LuaTarget {
    /// The Lua implementation from its template's text; a usage error (exit 2) when LuaJIT is missing.
    pub fn new(template: String) -> anyhow::Result<LuaTarget> {
        let found = Command::new("luajit")
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Err(usage(
                "fuzz: the Lua implementation runs in a stand-alone LuaJIT, which is not installed: \
                 apt-get install -y luajit (or leave Lua out: --only with the other implementations)",
            ));
        }
        Ok(LuaTarget { template })
    }
}

impl Target for LuaTarget {
    fn name(&self) -> &str {
        "lua"
    }

    fn run(&mut self, inputs: &[&Input]) -> anyhow::Result<Vec<Outcome>> {
        let mut outcomes: Vec<Option<Outcome>> = vec![None; inputs.len()];
        let mut batch = Vec::new();
        let mut scripts = 0;
        for (i, input) in inputs.iter().enumerate() {
            let script = config::parse_str(&input.config_text())
                .map_err(|_| Outcome::Rejected)
                .and_then(|cfg| {
                    lua::script_from(&self.template, &cfg)
                        .map_err(|e| Outcome::Broken(format!("{e:#}")))
                });
            match script {
                Err(o) => outcomes[i] = Some(o),
                Ok(s) => {
                    scripts += 1;
                    write_record(&mut batch, &s, input);
                }
            }
        }
        if scripts == 0 {
            return Ok(outcomes.into_iter().map(|o| o.expect("filled")).collect());
        }
        let mut stdin = format!("{scripts}\n").into_bytes();
        stdin.extend_from_slice(&batch);
        let output = run_luajit(&stdin)?;
        let mut records = parse_output(&output)?.into_iter();
        for slot in outcomes.iter_mut().filter(|o| o.is_none()) {
            *slot = Some(records.next().ok_or_else(|| {
                anyhow::anyhow!("LuaJIT answered fewer configurations than it was sent")
            })?);
        }
        Ok(outcomes.into_iter().map(|o| o.expect("filled")).collect())
    }
}

fn write_record(out: &mut Vec<u8>, script: &str, input: &Input) {
    let _ = write!(out, "{}\n{script}{}\n", script.len(), input.requests.len());
    for r in &input.requests {
        let _ = write!(
            out,
            "{} {}\n{}{}",
            r.route.len(),
            r.authority.len(),
            r.route,
            r.authority
        );
    }
}

fn run_luajit(stdin: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut child = Command::new("luajit")
        .args(["-e", DRIVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| usage(format!("fuzz: cannot start luajit ({e})")))?;
    let mut pipe = child.stdin.take().expect("piped");
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || pipe.write_all(&input));
    let out = child.wait_with_output()?;
    let _ = writer.join();
    if !out.status.success() {
        anyhow::bail!(
            "the LuaJIT fuzz driver failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// Reads the driver's records: `X <len>\n<error>` (the script failed to load or run), or `C <n>\n`
/// then per request `R <status>\nB <len>\n<body>`, `P` (continued), `H` (continued with the headers
/// changed) or `E <len>\n<error>`.
fn parse_output(out: &[u8]) -> anyhow::Result<Vec<Outcome>> {
    let mut r = Reader { data: out, pos: 0 };
    let mut outcomes = vec![];
    while r.pos < out.len() {
        let head = r.line()?;
        if let Some(len) = head.strip_prefix("X ") {
            let msg = r.take(len.parse()?)?;
            outcomes.push(Outcome::Broken(format!(
                "the script failed: {}",
                String::from_utf8_lossy(msg)
            )));
            continue;
        }
        let n: usize = head
            .strip_prefix("C ")
            .ok_or_else(|| anyhow::anyhow!("unexpected LuaJIT output line {head:?}"))?
            .parse()?;
        let mut replies = vec![];
        let mut broken = None;
        for _ in 0..n {
            let l = r.line()?;
            match l.split_once(' ') {
                Some(("R", status)) => {
                    let len: usize = r.line()?.strip_prefix("B ").unwrap_or("0").parse()?;
                    let body = r.take(len)?.to_vec();
                    replies.push(Reply::Local {
                        status: status.parse().unwrap_or(0),
                        body,
                    });
                }
                Some(("E", len)) => {
                    let msg = String::from_utf8_lossy(r.take(len.parse()?)?).to_string();
                    broken = broken.or(Some(format!("envoy_on_request raised: {msg}")));
                }
                _ if l == "P" => replies.push(Reply::Passthrough),
                _ if l == "H" => {
                    broken = broken.or(Some("continued with the request headers changed".into()));
                }
                _ => anyhow::bail!("unexpected LuaJIT output line {l:?}"),
            }
        }
        outcomes.push(broken.map_or(Outcome::Accepted(replies), Outcome::Broken));
    }
    Ok(outcomes)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn line(&mut self) -> anyhow::Result<String> {
        let data = self.data;
        let rest = &data[self.pos..];
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| anyhow::anyhow!("LuaJIT output ends mid-record"))?;
        self.pos += end + 1;
        Ok(String::from_utf8_lossy(&rest[..end]).to_string())
    }

    fn take(&mut self, n: usize) -> anyhow::Result<&'a [u8]> {
        let end = self.pos + n;
        if end > self.data.len() {
            anyhow::bail!("LuaJIT output ends mid-record");
        }
        let data = self.data;
        let s = &data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_records_are_read_back() {
        let out = b"X 3\nbadC 3\nR 200\nB 2\nhiP\nE 4\nboomC 1\nH\nC 0\n";
        let got = parse_output(out).unwrap();
        assert_eq!(got[0], Outcome::Broken("the script failed: bad".into()));
        assert_eq!(
            got[1],
            Outcome::Broken("envoy_on_request raised: boom".into())
        );
        assert_eq!(
            got[2],
            Outcome::Broken("continued with the request headers changed".into())
        );
        assert_eq!(got[3], Outcome::Accepted(vec![]));
        let ok = parse_output(b"C 2\nR 200\nB 0\nP\n").unwrap();
        assert_eq!(
            ok,
            vec![Outcome::Accepted(vec![
                Reply::Local {
                    status: 200,
                    body: vec![]
                },
                Reply::Passthrough
            ])]
        );
        assert!(parse_output(b"C 1\n").is_err());
    }
}
