//! The wire between the pool and a worker: length-prefixed frames of postcard.
//!
//! A frame is a little-endian `u32` length, then that many bytes of one postcard-encoded
//! message. The parent writes [`ToWorker`] frames to the worker's stdin; the worker writes
//! [`FromWorker`] frames to its stdout. A task's arguments and result are postcard bytes of
//! their own inside the envelope, because only the worker's registry knows their types.
//!
//! postcard is not self-describing (no field names, no type tags): both ends must agree on
//! the types, which they do because both ends are the same executable.

use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::io::{self, Read};

/// The worker's greeting; a change of the envelope bumps it.
pub const PROTOCOL: u32 = 1;

/// The biggest frame either side accepts (64 MiB): a corrupt or hostile length is a protocol
/// error before anything is allocated for it, never an allocation of gigabytes. The largest
/// frame our tasks need is far below: a chunk of 64 thumbnails (64x64 bytes each) is 256 KiB,
/// and a chunk of 100 no-op tasks a few hundred bytes. A task whose arguments or result do not
/// fit fails with that reason (and is better sent as a path to a file).
pub const MAX_FRAME: usize = 64 << 20;

/// Bytes that serialise as one byte string (postcard: a varint length, then the bytes) and
/// deserialise borrowing from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes<'a>(pub &'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Bytes<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<Bytes<'de>, E> {
                Ok(Bytes(v))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// Parent to worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToWorker<'a> {
    /// Run the task named `task` on each of `args` (one per item; more than one for a
    /// `map` chunk) and answer with one [`FromWorker::Done`] for `id`.
    Call {
        id: u64,
        task: &'a str,
        #[serde(borrow)]
        args: Vec<Bytes<'a>>,
    },
}

/// Worker to parent.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromWorker<'a> {
    /// The first frame a worker writes: it runs, and speaks this protocol.
    Hello { pid: u32, protocol: u32 },
    /// The replies to call `id`, one per argument, in order.
    Done {
        id: u64,
        #[serde(borrow)]
        replies: Vec<Reply<'a>>,
    },
}

/// What became of one item.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply<'a> {
    /// The task's return value, postcard-encoded.
    #[serde(borrow)]
    Value(Bytes<'a>),
    /// The task panicked; the panic message.
    Panicked(String),
    /// The worker could not run it (unknown task, undecodable arguments...).
    Failed(String),
}

/// Appends one frame holding `message` to `out`.
pub fn encode_frame<T: Serialize>(message: &T, out: &mut Vec<u8>) -> Result<(), String> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    let mut out_vec = std::mem::take(out);
    out_vec = postcard::to_extend(message, out_vec).map_err(|e| e.to_string())?;
    *out = out_vec;
    let len = out.len() - start - 4;
    if len > MAX_FRAME {
        out.truncate(start);
        return Err(format!(
            "a frame of {len} bytes is over the limit of {MAX_FRAME}"
        ));
    }
    out[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(())
}

/// Postcard bytes of one value (a task's arguments or result).
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    postcard::to_allocvec(value).map_err(|e| e.to_string())
}

/// Reads frames from a byte stream, many per `read` when they are there.
pub struct FrameReader<R> {
    inner: R,
    /// Zeroed once; `filled` says how much of it holds data.
    buf: Vec<u8>,
    filled: usize,
    /// Start of the unread bytes in `buf`.
    start: usize,
    /// The frame returned by the last `next_frame` ends here.
    consumed: usize,
}

impl<R: Read> FrameReader<R> {
    pub fn new(inner: R) -> FrameReader<R> {
        FrameReader {
            inner,
            buf: vec![0; 64 * 1024],
            filled: 0,
            start: 0,
            consumed: 0,
        }
    }

    /// The announced length of the frame at the front of the buffer, if its header is there.
    fn announced(&self) -> Option<usize> {
        let head = self.buf.get(self.start..self.start + 4)?;
        if self.start + 4 > self.filled {
            return None;
        }
        Some(u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize)
    }

    /// Length of the complete frame at the front of the buffer, if there is one.
    fn complete(&self) -> Option<usize> {
        let len = self.announced()?;
        (self.filled - self.start >= 4 + len).then_some(len)
    }

    /// The stream being read.
    pub fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Whether the next frame is already buffered (so `next_frame` will not block).
    pub fn has_frame(&mut self) -> bool {
        self.start = self.consumed;
        self.complete().is_some()
    }

    /// The next frame's payload; `Ok(None)` at a clean end of stream (between frames).
    pub fn next_frame(&mut self) -> io::Result<Option<&[u8]>> {
        self.start = self.consumed;
        loop {
            if let Some(len) = self.complete() {
                let from = self.start + 4;
                self.consumed = from + len;
                return Ok(Some(&self.buf[from..from + len]));
            }
            let need = match self.announced() {
                Some(len) if len > MAX_FRAME => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("a frame announces {len} bytes, over the limit of {MAX_FRAME}"),
                    ));
                }
                Some(len) => 4 + len,
                None => 4,
            };
            // Make room: move the unread bytes to the front, grow for a big frame.
            if self.start > 0 {
                self.buf.copy_within(self.start..self.filled, 0);
                self.filled -= self.start;
                self.start = 0;
                self.consumed = 0;
            }
            if need > self.buf.len() {
                // Room for the frame, rounded up, but never past the largest frame there is.
                self.buf
                    .resize(need.next_power_of_two().min(4 + MAX_FRAME), 0);
            }
            let n = match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                if self.filled == 0 {
                    return Ok(None);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the stream ended inside a frame ({} bytes)", self.filled),
                ));
            }
            self.filled += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_in_pieces() {
        let mut stream = Vec::new();
        let args = [b"abc".as_slice(), b"".as_slice(), &[0u8; 300]];
        for id in 0..3u64 {
            encode_frame(
                &ToWorker::Call {
                    id,
                    task: "t",
                    args: args.iter().map(|a| Bytes(a)).collect(),
                },
                &mut stream,
            )
            .unwrap();
        }
        // A reader that hands out 7 bytes at a time.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(7).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = FrameReader::new(Trickle(&stream));
        for want in 0..3u64 {
            let frame = r.next_frame().unwrap().unwrap();
            let ToWorker::Call {
                id,
                task,
                args: got,
            } = postcard::from_bytes(frame).unwrap();
            assert_eq!((id, task), (want, "t"));
            assert_eq!(got.len(), 3);
            assert_eq!(got[2].0.len(), 300);
        }
        assert!(r.next_frame().unwrap().is_none());
    }

    #[test]
    fn buffered_frames_are_seen_and_a_cut_frame_is_an_error() {
        let mut stream = Vec::new();
        for id in 0..2 {
            encode_frame(
                &FromWorker::Done {
                    id,
                    replies: vec![Reply::Failed("x".into())],
                },
                &mut stream,
            )
            .unwrap();
        }
        let mut r = FrameReader::new(&stream[..]);
        assert!(r.next_frame().unwrap().is_some());
        assert!(r.has_frame());
        assert!(r.next_frame().unwrap().is_some());
        assert!(!r.has_frame());
        assert!(r.next_frame().unwrap().is_none());

        let mut r = FrameReader::new(&stream[..stream.len() - 1]);
        assert!(r.next_frame().unwrap().is_some());
        assert_eq!(
            r.next_frame().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        // One byte over the limit is a protocol error, before anything is read or allocated.
        let over = ((MAX_FRAME + 1) as u32).to_le_bytes();
        let mut r = FrameReader::new(&over[..]);
        let e = r.next_frame().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("over the limit of 67108864"), "{e}");
        assert!(r.buf.capacity() < 1 << 20, "nothing allocated for it");
        // The limit itself is a frame like any other (announced, then cut short here).
        let at = (MAX_FRAME as u32).to_le_bytes();
        let mut r = FrameReader::new(&at[..]);
        assert_eq!(
            r.next_frame().unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        assert_eq!(
            r.buf.len(),
            4 + MAX_FRAME,
            "rounded up no further than the limit"
        );
        let mut out = Vec::new();
        let e = encode_frame(&Bytes(&vec![0u8; MAX_FRAME]), &mut out).unwrap_err();
        assert!(e.contains("over the limit"), "{e}");
        assert!(out.is_empty(), "a frame that is too big is not written");
        let huge = (u32::MAX).to_le_bytes();
        let mut r = FrameReader::new(&huge[..]);
        assert_eq!(
            r.next_frame().unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
