//! A serde deserializer that adds a fixed offset to every `Spanned` span it produces.
//!
//! The piecewise parse (`pieces.rs`) hands the toml crate one slice of the intent at a
//! time; toml's spans are then relative to the slice. Wrapping its deserializer in
//! [`Shift`] makes every span relative to the whole file again, whatever the type being
//! read, so diagnostics point at the same file:line:col as a whole-file parse.
//!
//! `Spanned<T>` asks its deserializer for a struct named `serde_spanned`'s private NAME
//! and reads it as a map of start, end and value, in that order (serde_spanned 1.x's
//! `SpannedDeserializer`, which toml uses). Everything else is forwarded unchanged, with
//! the wrapper carried into every nested value so that a span at any depth is shifted.

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use std::fmt;

/// The struct name `Spanned<T>` deserializes as (serde_spanned's private protocol).
pub(super) const SPANNED: &str = "$__serde_spanned_private_Spanned";

/// A deserializer whose `Spanned` values come out `by` bytes later.
pub struct Shift<D> {
    pub inner: D,
    pub by: usize,
}

macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(Wrap { inner: visitor, by: self.by })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Shift<D> {
    type Error = D::Error;

    forward! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit deserialize_seq
        deserialize_map deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_unit_struct(name, Wrap { inner: visitor, by: self.by })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_newtype_struct(name, Wrap { inner: visitor, by: self.by })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple(len, Wrap { inner: visitor, by: self.by })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple_struct(name, len, Wrap { inner: visitor, by: self.by })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        if name == SPANNED {
            return self.inner.deserialize_struct(name, fields, SpannedVisitor { inner: visitor, by: self.by });
        }
        self.inner.deserialize_struct(name, fields, Wrap { inner: visitor, by: self.by })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_enum(name, variants, Wrap { inner: visitor, by: self.by })
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A seed that deserializes through [`Shift`].
struct Seed<S> {
    inner: S,
    by: usize,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Shift { inner: deserializer, by: self.by })
    }
}

/// A visitor whose nested values (options, sequences, maps, enums) go through [`Shift`].
struct Wrap<V> {
    inner: V,
    by: usize,
}

macro_rules! pass {
    ($($method:ident($ty:ty))*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    pass! {
        visit_bool(bool) visit_i8(i8) visit_i16(i16) visit_i32(i32) visit_i64(i64) visit_i128(i128)
        visit_u8(u8) visit_u16(u16) visit_u32(u32) visit_u64(u64) visit_u128(u128) visit_f32(f32)
        visit_f64(f64) visit_char(char) visit_str(&str) visit_borrowed_str(&'de str) visit_string(String)
        visit_bytes(&[u8]) visit_borrowed_bytes(&'de [u8]) visit_byte_buf(Vec<u8>)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Shift { inner: d, by: self.by })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Shift { inner: d, by: self.by })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(Access { inner: seq, by: self.by })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Access { inner: map, by: self.by })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(Access { inner: data, by: self.by })
    }
}

/// A sequence, map or enum access whose elements go through [`Shift`].
struct Access<A> {
    inner: A,
    by: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Access<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Seed { inner: seed, by: self.by })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Access<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(Seed { inner: seed, by: self.by })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(Seed { inner: seed, by: self.by })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Access<A> {
    type Error = A::Error;
    type Variant = Access<A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), A::Error> {
        let (value, variant) = self.inner.variant_seed(Seed { inner: seed, by: self.by })?;
        Ok((value, Access { inner: variant, by: self.by }))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Access<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.newtype_variant_seed(Seed { inner: seed, by: self.by })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner.tuple_variant(len, Wrap { inner: visitor, by: self.by })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner.struct_variant(fields, Wrap { inner: visitor, by: self.by })
    }
}

/// The visitor of a `Spanned<T>`: its map's first two values (start, end) are shifted,
/// the third (the value) goes on through [`Shift`].
struct SpannedVisitor<V> {
    inner: V,
    by: usize,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for SpannedVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(SpannedAccess { inner: map, by: self.by, index: 0 })
    }
}

struct SpannedAccess<A> {
    inner: A,
    by: usize,
    /// How many values were read: 0 start, 1 end, then the value.
    index: usize,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for SpannedAccess<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let index = self.index;
        self.index += 1;
        if index < 2 {
            self.inner.next_value_seed(Offset { inner: seed, by: self.by })
        } else {
            self.inner.next_value_seed(Seed { inner: seed, by: self.by })
        }
    }
}

/// A seed for a span bound: reads the number and hands on the number plus the offset.
struct Offset<S> {
    inner: S,
    by: usize,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Offset<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        let at = <usize as de::Deserialize>::deserialize(deserializer)?;
        let shifted = at.checked_add(self.by).ok_or_else(|| de::Error::custom("span beyond the file"))?;
        self.inner.deserialize(de::value::UsizeDeserializer::new(shifted))
    }
}
