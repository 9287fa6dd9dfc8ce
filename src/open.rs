//! The one place irsa-lint opens a file to read it: scanned files, the files Terraform code
//! reads (`file()`, `templatefile()`, local charts), `.irsa-lint.toml` and its `var_files`,
//! `--config`, `--baseline`, `--var-file`, and the ignore files of the walk.
//!
//! Only a regular file is read, and at most `max` bytes of it: a FIFO would block the run
//! until a writer comes, a device such as `/dev/zero` never ends, and a folder is not a
//! text. The type is checked before the open (so that no device is ever opened) and again
//! on the open handle (so that a FIFO or link swapped in between is refused rather than
//! waited on or followed); the open itself never blocks. For a file the walk found, the
//! folder's listing is the check before the open ([`Links::Listed`]). A file that grows
//! past `max` while it is read is cut off and refused, never read to its end.
//!
//! Which folders a path may lead to is the caller's decision ([`resolves_below`]); this
//! module only says where a path leads.

// The read-only open needs `OpenOptions` for its flags; clippy.toml forbids it elsewhere
// because it can also write.
#![allow(clippy::disallowed_methods)]

use std::fmt;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// Files larger than this are not read.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Whether the last component of the path may be a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Read what the link points at: a path the user named, or one already resolved.
    Follow,
    /// Refuse a link: a file found in the tree, where whoever controls the tree could
    /// plant a link to anywhere.
    Refuse,
    /// As [`Links::Refuse`], for a file the walk found: its folder's listing said it is a
    /// regular file, which is the check before the open. A check by path again was one
    /// more path lookup per file, a tenth of the time spent reading a large tree.
    Listed,
}

/// Why a file was not read. Its words never quote the file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    /// A FIFO, socket, device or folder: what it is.
    NotRegular(&'static str),
    SymbolicLink,
    /// Larger than the limit (bytes).
    TooLarge(u64),
    NotUtf8,
    PermissionDenied,
    /// The file name is longer than the system accepts.
    NameTooLong,
    Other(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => write!(f, "file does not exist"),
            ReadError::NotRegular(what) => {
                write!(f, "is {what}, not a regular file, so it was not read")
            }
            ReadError::SymbolicLink => {
                write!(
                    f,
                    "is a symbolic link, which irsa-lint does not follow here"
                )
            }
            ReadError::TooLarge(max) => write!(
                f,
                "file is larger than {} MiB and was not read",
                max / 1024 / 1024
            ),
            ReadError::NotUtf8 => write!(f, "file is not valid UTF-8 text"),
            ReadError::PermissionDenied => write!(f, "permission denied"),
            ReadError::NameTooLong => write!(f, "the path is longer than the system accepts"),
            ReadError::Other(message) => write!(f, "{message}"),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> ReadError {
        match err.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound,
            io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
            io::ErrorKind::InvalidFilename => ReadError::NameTooLong,
            _ if is_link_refused(&err) => ReadError::SymbolicLink,
            _ => ReadError::Other(err.to_string().to_lowercase()),
        }
    }
}

/// `open` with `O_NOFOLLOW` on a link fails with `ELOOP`.
fn is_link_refused(err: &io::Error) -> bool {
    #[cfg(unix)]
    {
        err.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = err;
        false
    }
}

/// The bytes of the regular file at `path`, at most `max` of them.
pub fn read_bytes(path: &Path, links: Links, max: u64) -> Result<Vec<u8>, ReadError> {
    read_bytes_and_metadata(path, links, max).map(|(bytes, _)| bytes)
}

/// [`read_bytes`], with the metadata of the file as it was opened, taken before its bytes
/// were read: a write after that makes the metadata stale, never the bytes.
pub fn read_bytes_and_metadata(
    path: &Path,
    links: Links,
    max: u64,
) -> Result<(Vec<u8>, fs::Metadata), ReadError> {
    let before = match links {
        Links::Follow => Some(fs::metadata(path)?),
        Links::Refuse => Some(fs::symlink_metadata(path)?),
        Links::Listed => None,
    };
    if let Some(meta) = before {
        check_type(&meta)?;
        if meta.len() > max {
            return Err(ReadError::TooLarge(max));
        }
    }
    let file = open_for_reading(path, links)?;
    let meta = file.metadata()?;
    check_type(&meta)?;
    if meta.len() > max {
        return Err(ReadError::TooLarge(max));
    }
    // The length only sizes the buffer; `take` bounds the read whatever the file does.
    let mut bytes = Vec::with_capacity(meta.len().min(max) as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge(max));
    }
    Ok((bytes, meta))
}

/// The first `n` bytes (or fewer) of the regular file at `path`, however large it is.
pub fn read_prefix(path: &Path, links: Links, n: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_for_reading(path, links)?;
    check_type(&file.metadata()?)?;
    let mut bytes = Vec::with_capacity(n as usize);
    file.take(n).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The text of the regular file at `path`, at most `max` bytes of UTF-8.
pub fn read_string(path: &Path, links: Links, max: u64) -> Result<String, ReadError> {
    String::from_utf8(read_bytes(path, links, max)?).map_err(|_| ReadError::NotUtf8)
}

fn open_for_reading(path: &Path, links: Links) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO swapped in after the check opens without waiting for a writer (and is
        // refused below); a terminal never becomes the controlling one.
        let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
        if links != Links::Follow {
            flags |= libc::O_NOFOLLOW;
        }
        options.custom_flags(flags);
    }
    #[cfg(not(unix))]
    let _ = links;
    options.open(path)
}

fn check_type(meta: &Metadata) -> Result<(), ReadError> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_symlink() {
        return Err(ReadError::SymbolicLink);
    }
    if kind.is_dir() {
        return Err(ReadError::NotRegular("a folder"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Err(ReadError::NotRegular("a FIFO"));
        }
        if kind.is_socket() {
            return Err(ReadError::NotRegular("a socket"));
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Err(ReadError::NotRegular("a device"));
        }
    }
    Err(ReadError::NotRegular("a special file"))
}

/// Standard input as text, at most `max` bytes of it: `irsa-lint check - < /dev/zero` stops
/// at the limit instead of filling the memory.
pub fn read_stdin(max: u64) -> io::Result<String> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::other(
            ReadError::TooLarge(max)
                .to_string()
                .replace("file", "input"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Whether `path`, with every link resolved, lies in one of `folders` (canonical paths). A
/// path that cannot be resolved lies nowhere.
pub fn resolves_below(path: &Path, folders: &[PathBuf]) -> bool {
    path.canonicalize()
        .is_ok_and(|real| folders.iter().any(|folder| real.starts_with(folder)))
}

/// Whether a path the user named may be read: one named inside `cwd` must stay inside it
/// once its links are resolved (a link committed to the repository cannot lead a named
/// `--baseline` or `--config` to a file elsewhere); one named outside `cwd` is read where
/// it was named.
pub fn named_path_allowed(path: &Path, cwd: &Path) -> bool {
    let written = lexical(&cwd.join(path));
    let Ok(real_cwd) = cwd.canonicalize() else {
        return true;
    };
    if !written.starts_with(cwd) && !written.starts_with(&real_cwd) {
        return true;
    }
    match written.canonicalize() {
        Ok(real) => real.starts_with(&real_cwd),
        // Does not exist (yet): the read says so.
        Err(_) => true,
    }
}

/// `.` and `..` removed without touching the disk.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.tf");
        fs::write(&path, "locals {}\n").unwrap();
        assert_eq!(
            read_string(&path, Links::Refuse, 100).unwrap(),
            "locals {}\n"
        );
        assert_eq!(
            read_string(&path, Links::Refuse, 5),
            Err(ReadError::TooLarge(5))
        );
        assert_eq!(
            read_string(&dir.path().join("gone.tf"), Links::Follow, 5),
            Err(ReadError::NotFound)
        );
        assert_eq!(
            read_string(dir.path(), Links::Follow, 5),
            Err(ReadError::NotRegular("a folder"))
        );
    }

    /// Make a FIFO at `path`.
    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_fifos_devices_and_links_where_asked() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.yaml");
        mkfifo(&fifo);
        assert_eq!(
            read_bytes(&fifo, Links::Follow, MAX_FILE_BYTES),
            Err(ReadError::NotRegular("a FIFO"))
        );
        let zero = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert_eq!(
            read_bytes(&zero, Links::Follow, MAX_FILE_BYTES),
            Err(ReadError::NotRegular("a device"))
        );
        assert_eq!(
            read_bytes(&zero, Links::Refuse, MAX_FILE_BYTES),
            Err(ReadError::SymbolicLink)
        );
    }

    /// A file the walk listed as regular is opened without a check by path first: a FIFO,
    /// a link or a larger file put in its place since is still refused, and nothing waits.
    #[cfg(unix)]
    #[test]
    fn a_listed_file_swapped_since_the_walk_is_still_refused() {
        let dir = tempfile::tempdir().unwrap();
        let listed = dir.path().join("sa.yaml");
        std::fs::write(&listed, "kind: ServiceAccount\n").unwrap();
        assert_eq!(
            read_string(&listed, Links::Listed, 100).unwrap(),
            "kind: ServiceAccount\n"
        );
        assert_eq!(
            read_string(&listed, Links::Listed, 5),
            Err(ReadError::TooLarge(5))
        );
        std::fs::remove_file(&listed).unwrap();
        mkfifo(&listed);
        assert_eq!(
            read_bytes(&listed, Links::Listed, MAX_FILE_BYTES),
            Err(ReadError::NotRegular("a FIFO"))
        );
        std::fs::remove_file(&listed).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &listed).unwrap();
        assert_eq!(
            read_bytes(&listed, Links::Listed, MAX_FILE_BYTES),
            Err(ReadError::SymbolicLink)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_named_path_inside_the_working_folder_stays_inside() {
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("credentials");
        fs::write(&secret, "secret").unwrap();
        let cwd = tempfile::tempdir().unwrap();
        let cwd = cwd.path().canonicalize().unwrap();
        std::os::unix::fs::symlink(&secret, cwd.join("baseline.json")).unwrap();
        fs::write(cwd.join("own.json"), "{}").unwrap();
        assert!(!named_path_allowed(Path::new("baseline.json"), &cwd));
        assert!(named_path_allowed(Path::new("own.json"), &cwd));
        assert!(named_path_allowed(Path::new("missing.json"), &cwd));
        // Named outside on purpose: read where named.
        assert!(named_path_allowed(&secret, &cwd));
    }
}
