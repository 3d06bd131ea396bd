//! A client's address as each backend stores it: `inet` on PostgreSQL, its text on SQLite.
//! Read back as text, for the access record's readers.

use std::net::IpAddr;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type, ValueRef};

/// An address to store.
#[derive(Debug, Clone, Copy)]
pub struct Stored(pub IpAddr);

/// A stored address, or none (written by an administrator on the command line), as text.
#[derive(Debug, Clone, Default)]
pub struct Read(pub Option<String>);

impl From<Read> for Option<String> {
    fn from(read: Read) -> Self {
        read.0
    }
}

impl Type<Sqlite> for Stored {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl<'q> Encode<'q, Sqlite> for Stored {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0.to_string(), buf)
    }
}

impl Type<Postgres> for Stored {
    fn type_info() -> PgTypeInfo {
        <IpAddr as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for Stored {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <IpAddr as Encode<Postgres>>::encode(self.0, buf)
    }
}

impl Type<Sqlite> for Read {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for Read {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            return Ok(Read(None));
        }
        Ok(Read(Some(<String as Decode<'r, Sqlite>>::decode(value)?)))
    }
}

impl Type<Postgres> for Read {
    fn type_info() -> PgTypeInfo {
        <IpAddr as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <IpAddr as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Read {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            return Ok(Read(None));
        }
        let address = <IpAddr as Decode<'r, Postgres>>::decode(value)?;
        Ok(Read(Some(address.to_string())))
    }
}
