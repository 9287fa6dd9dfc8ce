//! What was made of a text, kept for the run: a chart of the repository is read for every
//! release that installs it, and its files would otherwise be parsed once per release.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex, PoisonError};

use foldhash::HashMap;

use crate::source::FileId;

/// Values made from files' texts, by file and by the type made (one function per type): a
/// value is reused only for the very text it was made from.
#[derive(Default)]
pub struct TextMemo(Mutex<HashMap<(FileId, TypeId), Made>>);

/// A value and the text it was made from.
type Made = (Arc<str>, Arc<dyn Any + Send + Sync>);

impl TextMemo {
    /// What `make` makes of this file's text, made once. Not made under the lock: two
    /// threads may both make it, and either is kept.
    pub fn get<T: Any + Send + Sync>(
        &self,
        file: FileId,
        text: &Arc<str>,
        make: impl FnOnce() -> T,
    ) -> Arc<T> {
        let key = (file, TypeId::of::<T>());
        let kept = {
            let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            map.get(&key)
                .filter(|(from, _)| Arc::ptr_eq(from, text) || **from == **text)
                .map(|(_, made)| made.clone())
        };
        if let Some(made) = kept.and_then(|made| made.downcast::<T>().ok()) {
            return made;
        }
        let made = Arc::new(make());
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(key, (text.clone(), made.clone()));
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_made_once_per_text_and_type() {
        let memo = TextMemo::default();
        let text: Arc<str> = Arc::from("a: 1");
        let mut made = 0;
        for _ in 0..3 {
            let len = memo.get(FileId(1), &text, || {
                made += 1;
                text.len()
            });
            assert_eq!(*len, 4);
        }
        assert_eq!(made, 1);
        // Another text of the file (an edit), the same text given anew, another type.
        let edited: Arc<str> = Arc::from("a: 22");
        assert_eq!(*memo.get(FileId(1), &edited, || edited.len()), 5);
        assert_eq!(*memo.get(FileId(1), &Arc::from("a: 22"), || 0_usize), 5);
        assert_eq!(*memo.get(FileId(1), &edited, || "other type"), "other type");
        assert_eq!(*memo.get(FileId(2), &edited, || 7_usize), 7);
    }
}
