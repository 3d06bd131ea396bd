//! JSON as the browser reads it: always parsed from bytes.
//!
//! Server functions' answers are parsed with `serde_json::from_slice`. Parsing anything else
//! with `from_str` compiles every wire type's deserializer into the WASM a second time
//! (serde_json's `StrRead` beside `SliceRead`: ≈ 70 KB of code before wasm-opt, measured for
//! issue 29, docs/benchmarks.md). Resources, socket payloads and what the browser stores go
//! through here instead.

use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Deserialize, Deserializer, Serialize, Serializer};

/// Parses JSON text the way server functions' answers are parsed.
pub fn from_text<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    serde_json::from_slice(text.as_bytes())
}

/// The codec of Haven's resources: the server writes the value it rendered with into the
/// page, the browser reads it back with [`from_text`] when it hydrates.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, Self::Error> {
        from_text(text)
    }
}

/// A resource whose value travels from the server's render to the browser as [`Json`].
pub type Resource<T> = leptos::prelude::Resource<T, Json>;

/// Makes a [`Resource`] (what `leptos::prelude::Resource::new` does, with Haven's codec).
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + Clone + PartialEq + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// An island's prop. Leptos reads island props with `from_str`; this keeps the value's own
/// JSON as it is in the page and parses it with [`from_text`], so that no wire type's
/// deserializer is compiled a second time for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop<T>(pub T);

impl<T: Serialize> Serialize for Prop<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Prop<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        from_text(raw.get())
            .map(Prop)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_value_reads_back_as_written() {
        let value = vec![(1_u64, "héllo \"quoted\"".to_string())];
        let text = <Json as Encoder<_>>::encode(&value).unwrap();
        let back: Vec<(u64, String)> = <Json as Decoder<_>>::decode(&text).unwrap();
        assert_eq!(back, value);
        assert!(from_text::<u64>("not json").is_err());
    }

    #[test]
    fn an_island_prop_reads_back_as_written() {
        let value = Prop(vec![(1_u64, "héllo \"quoted\"".to_string())]);
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(text, serde_json::to_string(&value.0).unwrap());
        let back: Prop<Vec<(u64, String)>> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
