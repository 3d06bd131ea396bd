//! How the wire's ids, roles and times are stored (server only): each type encodes and
//! decodes itself with sqlx on both backends, so the store's rows derive `sqlx::FromRow`
//! and bind these types directly. Ids are `bigint`/`INTEGER`, roles and access kinds their
//! lowercase name, times `timestamptz` on PostgreSQL and fixed-width RFC 3339 text on
//! SQLite (text order is time order there).

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Database, Decode, Encode, Type};
use time::OffsetDateTime;

use super::{AccessKind, ClientId, ConversationId, MessageId, Role, Timestamp, UserId};

/// Ids: an `i64` on both backends.
macro_rules! id_column {
    ($($id:ident),*) => {$(
        impl<DB: Database> Type<DB> for $id
        where
            i64: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <i64 as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <i64 as Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $id
        where
            i64: Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok($id(<i64 as Decode<'r, DB>>::decode(value)?))
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $id
        where
            i64: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                <i64 as Encode<'q, DB>>::encode_by_ref(&self.0, buf)
            }
        }
    )*};
}

id_column!(UserId, ConversationId, MessageId);

/// Enums stored as their lowercase name (`as_str` / `parse`).
macro_rules! name_column {
    ($($kind:ident),*) => {$(
        impl<DB: Database> Type<DB> for $kind
        where
            String: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $kind
        where
            String: Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <String as Decode<'r, DB>>::decode(value)?;
                $kind::parse(&text)
                    .ok_or_else(|| format!("not a {}: {text:?}", stringify!($kind)).into())
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $kind
        where
            &'q str: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                <&'q str as Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }
    )*};
}

name_column!(Role, AccessKind);

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Timestamp::parse(text).map_err(|_| format!("not a time: {text:?}").into())
    }
}

impl<'q> Encode<'q, Sqlite> for Timestamp {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.to_string(), buf)
    }
}

impl Timestamp {
    /// As a `timestamptz` value (milliseconds fit its microseconds).
    pub fn to_offset_date_time(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.as_millis()) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// A `timestamptz` value, to the millisecond.
    pub fn from_offset_date_time(t: OffsetDateTime) -> Self {
        Timestamp::from_millis((t.unix_timestamp_nanos() / 1_000_000) as i64)
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let at = <OffsetDateTime as Decode<'r, Postgres>>::decode(value)?;
        Ok(Timestamp::from_offset_date_time(at))
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode(self.to_offset_date_time(), buf)
    }
}

// Client ids: a `uuid` on PostgreSQL, its lowercase hyphenated text on SQLite.

impl Type<Sqlite> for ClientId {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for ClientId {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(ClientId(<String as Decode<'r, Sqlite>>::decode(value)?))
    }
}

impl<'q> Encode<'q, Sqlite> for ClientId {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0.clone(), buf)
    }
}

impl Type<Postgres> for ClientId {
    fn type_info() -> PgTypeInfo {
        <uuid::Uuid as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <uuid::Uuid as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for ClientId {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let id = <uuid::Uuid as Decode<'r, Postgres>>::decode(value)?;
        Ok(ClientId(id.hyphenated().to_string()))
    }
}

impl Encode<'_, Postgres> for ClientId {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        let id = uuid::Uuid::parse_str(&self.0)?;
        <uuid::Uuid as Encode<Postgres>>::encode(id, buf)
    }
}
