//! The `airtemp-api` binary: `--port 0` picks a free port and says which, it serves real
//! requests there, Ctrl-C (SIGINT) shuts it down cleanly, and bad flags are one line, exit 2.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_airtemp-api");

#[test]
fn serves_on_the_port_it_prints_and_stops_on_ctrl_c() {
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--latency-ms", "0", "--small"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("airtemp-api listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_string();
    let addr = url.strip_prefix("http://").unwrap();
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );

    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {}?date=2020-03-20 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
        airtemp_api::PATH
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("2020-03-20T00:00:00+08:00"));

    // SIGINT, as Ctrl-C sends it.
    // SAFETY: kill(2) with a valid pid and signal has no memory-safety requirements.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status}; stdout: {rest}");
    assert!(rest.contains("shutting down"), "{rest}");
}

#[test]
fn bad_flags_are_one_clear_line_and_exit_2() {
    for (args, mentions) in [
        (&["--fault-rate", "503=0.7,429=0.7"][..], "more than 1"),
        (&["--fault-rate", "gremlins=0.1"][..], "gremlins"),
        (&["--fault-on", "2020-02-30=html"][..], "2020-02-30"),
        (&["--port", "99999"][..], "99999"),
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(mentions), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn help_explains_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for flag in [
        "--port",
        "--latency-ms",
        "--jitter-ms",
        "--seed",
        "--fault-rate",
        "--fault-on",
        "--retry-after-s",
        "--stall-ms",
        "--small",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
}
