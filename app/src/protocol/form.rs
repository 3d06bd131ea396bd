//! A plain form's fields read into a server function's arguments, as the browser does on
//! submit (`components::action_form`).
//!
//! Leptos' own `ActionForm` reads them with serde_qs: on the client floor that form and its
//! reading cost 30.7 KB gzip of WASM (issue 29, docs/benchmarks.md). Haven's forms are
//! flat, so this reads only what they hold: each field a string, an integer, a bool, an enum's
//! unit variant, or an `Option` of one of those (a missing field is `None`); fields the
//! arguments do not name (a submit button's) are ignored. The server reads the same form
//! with server_fn's own decoder when it is posted without the WASM.

use serde::de::{
    self, value::Error, value::StringDeserializer, DeserializeOwned, DeserializeSeed,
    IntoDeserializer, MapAccess, Visitor,
};

/// Reads `fields` (name, value), in the form's order, into `T`.
pub fn from_fields<T: DeserializeOwned>(
    fields: impl IntoIterator<Item = (String, String)>,
) -> Result<T, Error> {
    T::deserialize(Fields {
        fields: fields.into_iter(),
        value: None,
    })
}

/// The form as a map from field names to values.
struct Fields<I> {
    fields: I,
    value: Option<String>,
}

impl<'de, I: Iterator<Item = (String, String)>> de::Deserializer<'de> for Fields<I> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de, I: Iterator<Item = (String, String)>> MapAccess<'de> for Fields<I> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((name, value)) = self.fields.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(name.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(Field(self.value.take().unwrap_or_default()))
    }
}

/// One field's text, read as the type the arguments ask for.
struct Field(String);

impl Field {
    fn parse<T: std::str::FromStr>(&self) -> Result<T, Error> {
        self.0
            .trim()
            .parse()
            .map_err(|_| de::Error::invalid_value(de::Unexpected::Str(&self.0), &"a number"))
    }
}

impl<'de> de::Deserializer<'de> for Field {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // A checked checkbox posts "on" unless it has a value of its own.
        match self.0.as_str() {
            "true" | "on" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(de::Error::invalid_value(
                de::Unexpected::Str(other),
                &"a checkbox",
            )),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_i64(self.parse()?)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_i32(self.parse()?)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_u64(self.parse()?)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_u32(self.parse()?)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        StringDeserializer::<Error>::new(self.0).deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i128 u8 u16 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq
        tuple tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Role;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct SignIn {
        role: Role,
        username: String,
        next: Option<String>,
        shared: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Start {
        peer_id: i64,
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_strings_enums_and_missing_options() {
        let read: SignIn = from_fields(fields(&[
            ("role", "psychiatrist"),
            ("username", " a&b=c "),
            ("shared", "on"),
            ("submit", "ignored"),
        ]))
        .unwrap();
        assert_eq!(
            read,
            SignIn {
                role: Role::Psychiatrist,
                username: " a&b=c ".into(),
                next: None,
                shared: Some("on".into()),
            }
        );
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Choice {
        keep: bool,
    }

    #[test]
    fn reads_a_checkbox_and_refuses_other_text() {
        for (text, keep) in [("on", true), ("true", true), ("false", false)] {
            assert_eq!(
                from_fields::<Choice>(fields(&[("keep", text)])).unwrap(),
                Choice { keep }
            );
        }
        assert!(from_fields::<Choice>(fields(&[("keep", "yes")])).is_err());
    }

    #[test]
    fn reads_numbers_and_refuses_what_is_not_one() {
        assert_eq!(
            from_fields::<Start>(fields(&[("peer_id", "42")])).unwrap(),
            Start { peer_id: 42 }
        );
        assert!(from_fields::<Start>(fields(&[("peer_id", "4x")])).is_err());
        assert!(
            from_fields::<Start>(fields(&[])).is_err(),
            "a missing number"
        );
        assert!(from_fields::<SignIn>(fields(&[("role", "admin"), ("username", "x")])).is_err());
    }
}
