//! The framing of LSP messages on standard input and output (`Content-Length` headers and
//! a JSON body), in place of lsp-server's own reader, which trusts the length it is given.
//!
//! A message is read as its bytes arrive and never allocated up front from its header, so
//! a `Content-Length` of a gigabyte (or `u64::MAX`) costs only what is sent. A message
//! larger than [`MAX_MESSAGE_BYTES`] is read past and dropped, keeping the frames in step.
//! A frame that is not a JSON-RPC message is answered with an error when it carries an id,
//! logged when it does not, and the connection goes on: one bad frame never ends it.

use std::io::{self, BufRead, Read, Write};
use std::thread::JoinHandle;

use crossbeam_channel::{Sender, unbounded};
use lsp_server::{Connection, ErrorCode, Message, RequestId, Response};

/// Largest message read: an open document may hold up to the 16 MiB the engine reads, and
/// JSON escapes can make its text a few times longer on the wire.
pub const MAX_MESSAGE_BYTES: u64 = 64 * 1024 * 1024;

/// Longest header line kept; the rest of a longer one is read past.
const MAX_HEADER_LINE: usize = 4096;

/// The thread that writes the server's messages; it ends when every sender is gone.
pub struct Writer(JoinHandle<io::Result<()>>);

impl Writer {
    pub fn join(self) -> Result<(), String> {
        match self.0.join() {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(_) => Err("the writer thread panicked".to_string()),
        }
    }
}

/// A connection over standard input and output. The reader thread ends at `exit` or at the
/// end of the input, and is not waited for: it may be blocked reading.
pub fn stdio() -> (Connection, Writer) {
    let (to_client, outgoing) = unbounded::<Message>();
    let writer = std::thread::spawn(move || {
        let stdout = io::stdout();
        let mut stdout = stdout.lock();
        for message in outgoing {
            message.write(&mut stdout)?;
        }
        stdout.flush()
    });
    let (incoming_sender, incoming) = unbounded::<Message>();
    let answers = to_client.clone();
    std::thread::spawn(move || {
        let stdin = io::stdin();
        let mut stdin = stdin.lock();
        read_messages(&mut stdin, &incoming_sender, &answers);
    });
    let connection = Connection {
        sender: to_client,
        receiver: incoming,
    };
    (connection, Writer(writer))
}

/// Read frames until the input ends or the client says `exit`, passing messages on and
/// answering bad requests.
pub fn read_messages(
    input: &mut impl BufRead,
    messages: &Sender<Message>,
    answers: &Sender<Message>,
) {
    loop {
        match read_frame(input) {
            Frame::Message(message) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if messages.send(message).is_err() || exit {
                    return;
                }
            }
            Frame::Invalid { id: Some(id), why } => {
                let code = ErrorCode::InvalidRequest as i32;
                let _ = answers.send(Response::new_err(id, code, why).into());
            }
            Frame::Invalid { id: None, why } => log(&why),
            Frame::End => return,
        }
    }
}

/// What one frame held.
#[derive(Debug)]
pub enum Frame {
    Message(Message),
    /// Not a message; the id when one could be read, to answer.
    Invalid {
        id: Option<RequestId>,
        why: String,
    },
    /// The input ended.
    End,
}

/// Read one frame: headers up to an empty line, then `Content-Length` bytes of body.
pub fn read_frame(input: &mut impl BufRead) -> Frame {
    let mut length: Option<Result<u64, String>> = None;
    let mut headers = 0usize;
    loop {
        let Some(line) = read_header_line(input) else {
            return Frame::End;
        };
        if line.is_empty() {
            // Blank lines between frames are tolerated.
            if headers == 0 {
                continue;
            }
            break;
        }
        headers += 1;
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| format!("Content-Length `{}` is not a length", clip(value))),
            );
        }
    }
    let length = match length {
        None => {
            return Frame::Invalid {
                id: None,
                why: "a message without a Content-Length header was dropped".to_string(),
            };
        }
        Some(Err(why)) => return Frame::Invalid { id: None, why },
        Some(Ok(length)) => length,
    };
    if length > MAX_MESSAGE_BYTES {
        // Read past it as it arrives, keeping nothing.
        let skipped = io::copy(&mut input.by_ref().take(length), &mut io::sink()).unwrap_or(0);
        if skipped < length {
            return Frame::End;
        }
        return Frame::Invalid {
            id: None,
            why: format!(
                "a message of {length} bytes is larger than the {} MiB limit and was dropped",
                MAX_MESSAGE_BYTES / 1024 / 1024
            ),
        };
    }
    let mut body = Vec::new();
    match input.by_ref().take(length).read_to_end(&mut body) {
        Ok(read) if read as u64 == length => {}
        _ => return Frame::End,
    }
    decode(&body)
}

/// A body as a message, or why it is not one.
fn decode(body: &[u8]) -> Frame {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            return Frame::Invalid {
                id: None,
                why: format!("a message that is not JSON was dropped: {e}"),
            };
        }
    };
    let id = value
        .get("id")
        .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
    let is_request = value.get("method").is_some();
    match serde_json::from_value::<Message>(value) {
        Ok(message) => Frame::Message(message),
        Err(e) => Frame::Invalid {
            // Only a request is answered: a malformed response has no one waiting.
            id: id.filter(|_| is_request),
            why: format!("not a valid JSON-RPC message: {e}"),
        },
    }
}

/// One header line without its line ending, at most [`MAX_HEADER_LINE`] bytes of it;
/// `None` at the end of the input.
fn read_header_line(input: &mut impl BufRead) -> Option<String> {
    let mut line = Vec::new();
    let read = input
        .by_ref()
        .take(MAX_HEADER_LINE as u64)
        .read_until(b'\n', &mut line)
        .ok()?;
    if read == 0 {
        return None;
    }
    if line.last() != Some(&b'\n') {
        // Too long: read past the rest of it.
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let read = input
                .by_ref()
                .take(MAX_HEADER_LINE as u64)
                .read_until(b'\n', &mut rest)
                .ok()?;
            if read == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&line);
    Some(text.trim_end_matches(['\r', '\n']).to_string())
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

fn log(message: &str) {
    eprintln!("irsa-lint: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<String> {
        let mut reader = io::BufReader::new(input);
        let mut out = Vec::new();
        loop {
            match read_frame(&mut reader) {
                Frame::End => return out,
                Frame::Message(Message::Request(r)) => out.push(format!("request {}", r.method)),
                Frame::Message(Message::Notification(n)) => {
                    out.push(format!("notification {}", n.method))
                }
                Frame::Message(Message::Response(_)) => out.push("response".to_string()),
                Frame::Invalid { id, why } => out.push(format!("invalid {id:?}: {why}")),
            }
        }
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn huge_lengths_cost_only_what_is_sent() {
        let ping = frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
        for length in [u64::MAX.to_string(), (1u64 << 30).to_string()] {
            let input = format!("Content-Length: {length}\r\n\r\n{ping}");
            // The input ends before the claimed length: the end, no panic, no allocation.
            assert_eq!(frames(input.as_bytes()), Vec::<String>::new());
        }
        let input = format!("Content-Length: 18446744073709551616\r\n\r\n{ping}");
        let read = frames(input.as_bytes());
        assert!(read[0].contains("is not a length"), "{read:?}");
    }

    #[test]
    fn bad_frames_are_answered_or_dropped_and_reading_goes_on() {
        let input = [
            frame("{not json"),
            frame(r#"{"jsonrpc":"2.0","id":7,"method":3}"#),
            frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#),
            "X-Other: 1\r\n\r\n".to_string(),
            frame(r#"{"jsonrpc":"2.0","id":8,"method":"shutdown"}"#),
        ]
        .concat();
        let read = frames(input.as_bytes());
        assert_eq!(read.len(), 5, "{read:?}");
        assert!(
            read[0].starts_with("invalid None: a message that is not JSON"),
            "{read:?}"
        );
        assert!(
            read[1].starts_with("invalid Some(RequestId(I32(7)))"),
            "{read:?}"
        );
        assert_eq!(read[2], "notification initialized");
        assert!(read[3].contains("without a Content-Length"), "{read:?}");
        assert_eq!(read[4], "request shutdown");
    }

    /// Byte soup made of framing pieces (headers, lengths, separators, JSON fragments) never
    /// panics the reader, and every input is read to its end.
    #[test]
    fn any_bytes_are_read_to_the_end_without_a_panic() {
        const PIECES: &[&str] = &[
            "Content-Length: ",
            "content-length:",
            "18446744073709551615",
            "99999999999999999999",
            "-1",
            "0",
            "12",
            "41",
            "\r\n",
            "\n",
            "\r\n\r\n",
            ":",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}",
            "{\"id\":",
            "\"method\"",
            "}",
            "\u{0}",
            "\u{feff}",
            "é",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let mut input = Vec::new();
            for _ in 0..(next() % 24) {
                match next() % 5 {
                    0 => input.push((next() % 256) as u8),
                    _ => input.extend(PIECES[(next() as usize) % PIECES.len()].bytes()),
                }
            }
            let mut reader = io::BufReader::new(&input[..]);
            let mut frames = 0;
            while !matches!(read_frame(&mut reader), Frame::End) {
                frames += 1;
                assert!(frames <= input.len() + 1, "no progress on {input:?}");
            }
        }
    }

    #[test]
    fn a_message_over_the_limit_is_read_past() {
        let big = MAX_MESSAGE_BYTES + 1;
        let mut input = format!("Content-Length: {big}\r\n\r\n").into_bytes();
        input.resize(input.len() + big as usize, b' ');
        input.extend(frame(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#).bytes());
        let read = frames(&input);
        assert_eq!(read.len(), 2, "{:?}", read);
        assert!(read[0].contains("larger than the 64 MiB limit"), "{read:?}");
        assert_eq!(read[1], "request shutdown");
    }
}
