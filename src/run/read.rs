//! Reading an answer's body without trusting it: never more than a limit, whatever the
//! `Content-Length` says or the framing (chunked, or delimited by the connection's close).

use bytes::{Bytes, BytesMut};

/// Why a body could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// More than the limit came (or was announced); nothing beyond the limit was kept.
    TooLarge {
        limit: usize,
    },
    Transport(reqwest::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge { limit } => write!(
                f,
                "an answer larger than the limit of {limit} bytes (max_answer_bytes); reading stopped there"
            ),
            ReadError::Transport(e) => f.write_str(&super::transport::transport_error(e)),
        }
    }
}

/// The whole body, or an error once it passes `limit` bytes.
pub async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Result<Bytes, ReadError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge { limit });
    }
    let mut out = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
        if out.len() + chunk.len() > limit {
            return Err(ReadError::TooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}
