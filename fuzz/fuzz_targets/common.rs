//! Shared by the fuzz targets: the parsers under test take paths (they sniff, decompress and
//! name the file in errors), so each input is written to a file in a per-process directory on
//! tmpfs first.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Writes `data` to `<dir>/<name>` and returns the path.
pub fn file(name: &str, data: &[u8]) -> String {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("agemark-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz scratch directory");
        d
    });
    let p = dir.join(name);
    std::fs::write(&p, data).expect("fuzz scratch file");
    p.display().to_string()
}
