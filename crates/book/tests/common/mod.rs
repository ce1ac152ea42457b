//! What the book's integration tests share: `book serve` on a free loopback port, and raw
//! HTTP GETs to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `book [--book DIR] serve --no-build --port 0`; killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// `127.0.0.1:PORT`, as the server printed it.
    pub addr: String,
}

impl Server {
    /// Serves the built book of `book_dir` (the project's book if `None`) and reads the URL the
    /// server prints first, which must be on loopback.
    pub fn start(book_dir: Option<&Path>) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_book"));
        if let Some(dir) = book_dir {
            cmd.arg("--book").arg(dir);
        }
        let mut child = cmd
            .args(["serve", "--no-build", "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        assert!(addr.starts_with("127.0.0.1:"), "{line}");
        Self {
            child: Some(child),
            addr,
        }
    }

    /// The URL of `path` (which starts with `/`) on this server.
    #[allow(dead_code)] // pipeline.rs sends its own GETs
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path` over a fresh connection: the raw response, status line and headers included.
    #[allow(dead_code)] // browser.rs asks Chromium instead
    pub fn get(&self, path: &str) -> String {
        let addr = &self.addr;
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        response
    }

    /// Stops the server, which must still be running.
    pub fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for Server {
    /// A test that panics before [`Server::stop`] leaves no server behind.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
