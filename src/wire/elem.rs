//! TIM element objects (`message_elem_array` entries) with their exact key strings, and their
//! mapping to the domain [`Element`].
//!
//! An element is a JSON object tagged by `elem_type`. Each type has a struct here; keys it does
//! not model are kept in `extra` and travel through the store as the element's extension, so
//! they come back out unchanged.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use timsg_actors::element::{
    CustomElement, Element, ElementBody, FaceElement, FileElement, GroupReportElement, GroupTipsElement, ImageElement,
    ImageRendition, LocationElement, MergeElement, OtherElement, SoundElement, TextElement, VideoElement,
};

use super::extension::{extension_of, merge_extension};

/// `TIMElemType` numbers.
pub mod elem_type {
    pub const TEXT: i32 = 0;
    pub const IMAGE: i32 = 1;
    pub const SOUND: i32 = 2;
    pub const CUSTOM: i32 = 3;
    pub const FILE: i32 = 4;
    pub const GROUP_TIPS: i32 = 5;
    pub const FACE: i32 = 6;
    pub const LOCATION: i32 = 7;
    pub const GROUP_REPORT: i32 = 8;
    pub const VIDEO: i32 = 9;
    pub const FRIEND_CHANGE: i32 = 10;
    pub const PROFILE_CHANGE: i32 = 11;
    pub const MERGE: i32 = 12;
    pub const INVALID: i32 = -1;
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TextElem {
    pub elem_type: i32,
    #[serde(default)]
    pub text_elem_content: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomElem {
    pub elem_type: i32,
    pub custom_elem_data: String,
    pub custom_elem_desc: String,
    pub custom_elem_ext: String,
    pub custom_elem_sound: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FaceElem {
    pub elem_type: i32,
    pub face_elem_index: i64,
    pub face_elem_buf: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LocationElem {
    pub elem_type: i32,
    pub location_elem_desc: String,
    pub location_elem_longitude: f64,
    pub location_elem_latitude: f64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageElem {
    pub elem_type: i32,
    pub image_elem_orig_path: String,
    pub image_elem_level: i64,
    pub image_elem_format: i64,
    pub image_elem_orig_id: String,
    pub image_elem_orig_pic_height: i64,
    pub image_elem_orig_pic_width: i64,
    pub image_elem_orig_pic_size: i64,
    pub image_elem_thumb_id: String,
    pub image_elem_thumb_pic_height: i64,
    pub image_elem_thumb_pic_width: i64,
    pub image_elem_thumb_pic_size: i64,
    pub image_elem_large_id: String,
    pub image_elem_large_pic_height: i64,
    pub image_elem_large_pic_width: i64,
    pub image_elem_large_pic_size: i64,
    pub image_elem_orig_url: String,
    pub image_elem_thumb_url: String,
    pub image_elem_large_url: String,
    pub image_elem_task_id: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SoundElem {
    pub elem_type: i32,
    pub sound_elem_file_path: String,
    pub sound_elem_file_size: i64,
    pub sound_elem_file_time: i64,
    pub sound_elem_file_id: String,
    pub sound_elem_business_id: i64,
    pub sound_elem_download_flag: i64,
    pub sound_elem_url: String,
    pub sound_elem_task_id: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FileElem {
    pub elem_type: i32,
    pub file_elem_file_path: String,
    pub file_elem_file_name: String,
    pub file_elem_file_size: i64,
    pub file_elem_file_id: String,
    pub file_elem_business_id: i64,
    pub file_elem_download_flag: i64,
    pub file_elem_url: String,
    pub file_elem_task_id: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VideoElem {
    pub elem_type: i32,
    pub video_elem_video_type: String,
    pub video_elem_video_size: i64,
    pub video_elem_video_duration: i64,
    pub video_elem_video_path: String,
    pub video_elem_video_id: String,
    pub video_elem_business_id: i64,
    pub video_elem_video_download_flag: i64,
    pub video_elem_video_url: String,
    pub video_elem_image_type: String,
    pub video_elem_image_size: i64,
    pub video_elem_image_width: i64,
    pub video_elem_image_height: i64,
    pub video_elem_image_path: String,
    pub video_elem_image_id: String,
    pub video_elem_image_download_flag: i64,
    pub video_elem_image_url: String,
    pub video_elem_task_id: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MergeElem {
    pub elem_type: i32,
    pub merge_elem_title: String,
    pub merge_elem_abstract_array: Vec<String>,
    pub merge_elem_compatible_text: String,
    /// The merged messages (send side); kept as JSON, each one a Message object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merge_elem_message_array: Vec<Value>,
    pub merge_elem_layer_over_limit: bool,
    pub merge_elem_relay_pb_key: String,
    pub merge_elem_relay_json_key: String,
    pub merge_elem_relay_buffer: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupTipsElem {
    pub elem_type: i32,
    pub group_tips_elem_tip_type: u32,
    pub group_tips_elem_op_user: String,
    pub group_tips_elem_group_name: String,
    pub group_tips_elem_group_id: String,
    pub group_tips_elem_time: u64,
    pub group_tips_elem_user_array: Vec<String>,
    pub group_tips_elem_member_num: u64,
    pub group_tips_elem_platform: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupReportElem {
    pub elem_type: i32,
    pub group_report_elem_report_type: u32,
    pub group_report_elem_group_id: String,
    pub group_report_elem_group_name: String,
    pub group_report_elem_op_user: String,
    pub group_report_elem_msg: String,
    pub group_report_elem_user_data: String,
    pub group_report_elem_platform: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// ProfileChange (11): the V5 `identifer` spelling is read too; the seed spelling is written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileChangeElem {
    pub elem_type: i32,
    pub profile_change_elem_change_type: u32,
    #[serde(rename = "profile_change_elem_from_identifer", alias = "profile_change_elem_from_identifier")]
    pub profile_change_elem_from_identifier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_change_elem_user_profile_item: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FriendChangeElem {
    pub elem_type: i32,
    pub friend_change_elem_change_type: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub friend_change_elem_friend_add_identifier_array: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub friend_change_elem_friend_del_identifier_array: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub friend_change_elem_blacklist_add_identifier_array: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub friend_change_elem_blacklist_del_identifier_array: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An element of a type this version does not model: kept whole.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UnknownElem {
    pub elem_type: i32,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `message_elem_array`.
#[derive(Debug, Clone, PartialEq)]
pub enum WireElem {
    Text(TextElem),
    Image(ImageElem),
    Sound(SoundElem),
    Custom(CustomElem),
    File(FileElem),
    GroupTips(GroupTipsElem),
    Face(FaceElem),
    Location(LocationElem),
    GroupReport(GroupReportElem),
    Video(VideoElem),
    FriendChange(FriendChangeElem),
    ProfileChange(ProfileChangeElem),
    Merge(MergeElem),
    Unknown(UnknownElem),
}

impl<'de> Deserialize<'de> for WireElem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let t = value
            .get("elem_type")
            .ok_or_else(|| D::Error::custom("element is missing elem_type"))?
            .as_i64()
            .ok_or_else(|| D::Error::custom("elem_type must be an integer"))?;
        fn parse<T: serde::de::DeserializeOwned, E: serde::de::Error>(v: Value) -> Result<T, E> {
            serde_json::from_value(v).map_err(E::custom)
        }
        Ok(match t as i32 {
            elem_type::TEXT => WireElem::Text(parse(value)?),
            elem_type::IMAGE => WireElem::Image(parse(value)?),
            elem_type::SOUND => WireElem::Sound(parse(value)?),
            elem_type::CUSTOM => WireElem::Custom(parse(value)?),
            elem_type::FILE => WireElem::File(parse(value)?),
            elem_type::GROUP_TIPS => WireElem::GroupTips(parse(value)?),
            elem_type::FACE => WireElem::Face(parse(value)?),
            elem_type::LOCATION => WireElem::Location(parse(value)?),
            elem_type::GROUP_REPORT => WireElem::GroupReport(parse(value)?),
            elem_type::VIDEO => WireElem::Video(parse(value)?),
            elem_type::FRIEND_CHANGE => WireElem::FriendChange(parse(value)?),
            elem_type::PROFILE_CHANGE => WireElem::ProfileChange(parse(value)?),
            elem_type::MERGE => WireElem::Merge(parse(value)?),
            _ => WireElem::Unknown(parse(value)?),
        })
    }
}

impl Serialize for WireElem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            WireElem::Text(e) => e.serialize(s),
            WireElem::Image(e) => e.serialize(s),
            WireElem::Sound(e) => e.serialize(s),
            WireElem::Custom(e) => e.serialize(s),
            WireElem::File(e) => e.serialize(s),
            WireElem::GroupTips(e) => e.serialize(s),
            WireElem::Face(e) => e.serialize(s),
            WireElem::Location(e) => e.serialize(s),
            WireElem::GroupReport(e) => e.serialize(s),
            WireElem::Video(e) => e.serialize(s),
            WireElem::FriendChange(e) => e.serialize(s),
            WireElem::ProfileChange(e) => e.serialize(s),
            WireElem::Merge(e) => e.serialize(s),
            WireElem::Unknown(e) => e.serialize(s),
        }
    }
}

/// Nesting layers of a merge element, itself included: merged messages given inline are
/// walked; a nested merge given only by its relay key carries its depth in the key.
pub fn merge_depth(e: &MergeElem) -> u32 {
    fn depth_of_value(elem: &Value, budget: u32) -> u32 {
        if budget == 0 {
            return u32::MAX; // deeper than anything allowed: over the limit
        }
        let inline = elem.get("merge_elem_message_array").and_then(Value::as_array);
        match inline {
            Some(messages) if !messages.is_empty() => 1u32.saturating_add(nested_max(messages, budget - 1)),
            _ => elem
                .get("merge_elem_relay_json_key")
                .and_then(Value::as_str)
                .and_then(|k| k.rsplit_once('-'))
                .and_then(|(_, d)| d.parse().ok())
                .unwrap_or(1),
        }
    }
    fn nested_max(messages: &[Value], budget: u32) -> u32 {
        messages
            .iter()
            .filter_map(|m| m.get("message_elem_array").and_then(Value::as_array))
            .flatten()
            .filter(|el| el.get("elem_type").and_then(Value::as_i64) == Some(i64::from(elem_type::MERGE)))
            .map(|el| depth_of_value(el, budget))
            .max()
            .unwrap_or(0)
    }
    if e.merge_elem_message_array.is_empty() {
        return e.merge_elem_relay_json_key.rsplit_once('-').and_then(|(_, d)| d.parse().ok()).unwrap_or(1);
    }
    1u32.saturating_add(nested_max(&e.merge_elem_message_array, 128))
}

/// Converts a wire element into the domain form; unmodelled keys become the extension.
pub fn to_domain(elem: &WireElem) -> Element {
    let (body, extra) = match elem {
        WireElem::Text(e) => (ElementBody::Text(TextElement { content: e.text_elem_content.clone() }), &e.extra),
        WireElem::Custom(e) => (
            ElementBody::Custom(Box::new(CustomElement {
                data: e.custom_elem_data.clone(),
                desc: e.custom_elem_desc.clone(),
                ext: e.custom_elem_ext.clone(),
                sound: e.custom_elem_sound.clone(),
            })),
            &e.extra,
        ),
        WireElem::Face(e) => {
            (ElementBody::Face(FaceElement { index: e.face_elem_index, buf: e.face_elem_buf.clone() }), &e.extra)
        }
        WireElem::Location(e) => (
            ElementBody::Location(LocationElement {
                desc: e.location_elem_desc.clone(),
                longitude: e.location_elem_longitude,
                latitude: e.location_elem_latitude,
            }),
            &e.extra,
        ),
        WireElem::Image(e) => (
            ElementBody::Image(Box::new(ImageElement {
                orig_path: e.image_elem_orig_path.clone(),
                level: e.image_elem_level,
                format: e.image_elem_format,
                orig: ImageRendition {
                    id: e.image_elem_orig_id.clone(),
                    width: e.image_elem_orig_pic_width,
                    height: e.image_elem_orig_pic_height,
                    size: e.image_elem_orig_pic_size,
                    url: e.image_elem_orig_url.clone(),
                },
                large: ImageRendition {
                    id: e.image_elem_large_id.clone(),
                    width: e.image_elem_large_pic_width,
                    height: e.image_elem_large_pic_height,
                    size: e.image_elem_large_pic_size,
                    url: e.image_elem_large_url.clone(),
                },
                thumb: ImageRendition {
                    id: e.image_elem_thumb_id.clone(),
                    width: e.image_elem_thumb_pic_width,
                    height: e.image_elem_thumb_pic_height,
                    size: e.image_elem_thumb_pic_size,
                    url: e.image_elem_thumb_url.clone(),
                },
                task_id: e.image_elem_task_id,
            })),
            &e.extra,
        ),
        WireElem::Sound(e) => (
            ElementBody::Sound(Box::new(SoundElement {
                file_path: e.sound_elem_file_path.clone(),
                file_size: e.sound_elem_file_size,
                file_time: e.sound_elem_file_time,
                file_id: e.sound_elem_file_id.clone(),
                business_id: e.sound_elem_business_id,
                download_flag: e.sound_elem_download_flag,
                url: e.sound_elem_url.clone(),
                task_id: e.sound_elem_task_id,
            })),
            &e.extra,
        ),
        WireElem::File(e) => (
            ElementBody::File(Box::new(FileElement {
                file_path: e.file_elem_file_path.clone(),
                file_name: e.file_elem_file_name.clone(),
                file_size: e.file_elem_file_size,
                file_id: e.file_elem_file_id.clone(),
                business_id: e.file_elem_business_id,
                download_flag: e.file_elem_download_flag,
                url: e.file_elem_url.clone(),
                task_id: e.file_elem_task_id,
            })),
            &e.extra,
        ),
        WireElem::Video(e) => (
            ElementBody::Video(Box::new(VideoElement {
                video_type: e.video_elem_video_type.clone(),
                video_size: e.video_elem_video_size,
                video_duration: e.video_elem_video_duration,
                video_path: e.video_elem_video_path.clone(),
                video_id: e.video_elem_video_id.clone(),
                business_id: e.video_elem_business_id,
                video_download_flag: e.video_elem_video_download_flag,
                video_url: e.video_elem_video_url.clone(),
                image_type: e.video_elem_image_type.clone(),
                image_size: e.video_elem_image_size,
                image_width: e.video_elem_image_width,
                image_height: e.video_elem_image_height,
                image_path: e.video_elem_image_path.clone(),
                image_id: e.video_elem_image_id.clone(),
                image_download_flag: e.video_elem_image_download_flag,
                image_url: e.video_elem_image_url.clone(),
                task_id: e.video_elem_task_id,
            })),
            &e.extra,
        ),
        WireElem::Merge(e) => (
            ElementBody::Merge(Box::new(MergeElement {
                title: e.merge_elem_title.clone(),
                abstracts: e.merge_elem_abstract_array.clone(),
                compatible_text: e.merge_elem_compatible_text.clone(),
                layer_over_limit: e.merge_elem_layer_over_limit,
                relay_pb_key: e.merge_elem_relay_pb_key.clone(),
                relay_json_key: e.merge_elem_relay_json_key.clone(),
                relay_buffer: e.merge_elem_relay_buffer.clone(),
                messages: (!e.merge_elem_message_array.is_empty())
                    .then(|| Value::Array(e.merge_elem_message_array.clone()).to_string().into()),
                message_count: u32::try_from(e.merge_elem_message_array.len()).unwrap_or(u32::MAX),
                depth: merge_depth(e),
            })),
            &e.extra,
        ),
        WireElem::GroupTips(e) => (
            ElementBody::GroupTips(Box::new(GroupTipsElement {
                tip_type: e.group_tips_elem_tip_type,
                op_user: e.group_tips_elem_op_user.clone(),
                group_name: e.group_tips_elem_group_name.clone(),
                group_id: e.group_tips_elem_group_id.clone(),
                time: e.group_tips_elem_time,
                user_array: e.group_tips_elem_user_array.clone(),
                member_num: e.group_tips_elem_member_num,
                platform: e.group_tips_elem_platform.clone(),
            })),
            &e.extra,
        ),
        WireElem::GroupReport(e) => (
            ElementBody::GroupReport(Box::new(GroupReportElement {
                report_type: e.group_report_elem_report_type,
                group_id: e.group_report_elem_group_id.clone(),
                group_name: e.group_report_elem_group_name.clone(),
                op_user: e.group_report_elem_op_user.clone(),
                msg: e.group_report_elem_msg.clone(),
                user_data: e.group_report_elem_user_data.clone(),
                platform: e.group_report_elem_platform.clone(),
            })),
            &e.extra,
        ),
        // Types without a domain model keep every key but elem_type in the extension.
        WireElem::FriendChange(_) | WireElem::ProfileChange(_) | WireElem::Unknown(_) => {
            let mut all = match serde_json::to_value(elem) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            };
            let t = all.remove("elem_type").and_then(|v| v.as_i64()).unwrap_or(-1) as i32;
            return Element { body: ElementBody::Other(OtherElement { elem_type: t }), extension: extension_of(&all) };
        }
    };
    Element { body, extension: extension_of(extra) }
}

/// The wire object of a domain element, extension keys merged back in.
pub fn from_domain(elem: &Element) -> Value {
    let value = match &elem.body {
        ElementBody::Text(t) => serde_json::to_value(TextElem {
            elem_type: elem_type::TEXT,
            text_elem_content: t.content.clone(),
            extra: Map::new(),
        }),
        ElementBody::Custom(c) => serde_json::to_value(CustomElem {
            elem_type: elem_type::CUSTOM,
            custom_elem_data: c.data.clone(),
            custom_elem_desc: c.desc.clone(),
            custom_elem_ext: c.ext.clone(),
            custom_elem_sound: c.sound.clone(),
            extra: Map::new(),
        }),
        ElementBody::Face(f) => serde_json::to_value(FaceElem {
            elem_type: elem_type::FACE,
            face_elem_index: f.index,
            face_elem_buf: f.buf.clone(),
            extra: Map::new(),
        }),
        ElementBody::Location(l) => serde_json::to_value(LocationElem {
            elem_type: elem_type::LOCATION,
            location_elem_desc: l.desc.clone(),
            location_elem_longitude: l.longitude,
            location_elem_latitude: l.latitude,
            extra: Map::new(),
        }),
        ElementBody::Image(i) => serde_json::to_value(ImageElem {
            elem_type: elem_type::IMAGE,
            image_elem_orig_path: i.orig_path.clone(),
            image_elem_level: i.level,
            image_elem_format: i.format,
            image_elem_orig_id: i.orig.id.clone(),
            image_elem_orig_pic_height: i.orig.height,
            image_elem_orig_pic_width: i.orig.width,
            image_elem_orig_pic_size: i.orig.size,
            image_elem_thumb_id: i.thumb.id.clone(),
            image_elem_thumb_pic_height: i.thumb.height,
            image_elem_thumb_pic_width: i.thumb.width,
            image_elem_thumb_pic_size: i.thumb.size,
            image_elem_large_id: i.large.id.clone(),
            image_elem_large_pic_height: i.large.height,
            image_elem_large_pic_width: i.large.width,
            image_elem_large_pic_size: i.large.size,
            image_elem_orig_url: i.orig.url.clone(),
            image_elem_thumb_url: i.thumb.url.clone(),
            image_elem_large_url: i.large.url.clone(),
            image_elem_task_id: i.task_id,
            extra: Map::new(),
        }),
        ElementBody::Sound(s) => serde_json::to_value(SoundElem {
            elem_type: elem_type::SOUND,
            sound_elem_file_path: s.file_path.clone(),
            sound_elem_file_size: s.file_size,
            sound_elem_file_time: s.file_time,
            sound_elem_file_id: s.file_id.clone(),
            sound_elem_business_id: s.business_id,
            sound_elem_download_flag: s.download_flag,
            sound_elem_url: s.url.clone(),
            sound_elem_task_id: s.task_id,
            extra: Map::new(),
        }),
        ElementBody::File(f) => serde_json::to_value(FileElem {
            elem_type: elem_type::FILE,
            file_elem_file_path: f.file_path.clone(),
            file_elem_file_name: f.file_name.clone(),
            file_elem_file_size: f.file_size,
            file_elem_file_id: f.file_id.clone(),
            file_elem_business_id: f.business_id,
            file_elem_download_flag: f.download_flag,
            file_elem_url: f.url.clone(),
            file_elem_task_id: f.task_id,
            extra: Map::new(),
        }),
        ElementBody::Video(v) => serde_json::to_value(VideoElem {
            elem_type: elem_type::VIDEO,
            video_elem_video_type: v.video_type.clone(),
            video_elem_video_size: v.video_size,
            video_elem_video_duration: v.video_duration,
            video_elem_video_path: v.video_path.clone(),
            video_elem_video_id: v.video_id.clone(),
            video_elem_business_id: v.business_id,
            video_elem_video_download_flag: v.video_download_flag,
            video_elem_video_url: v.video_url.clone(),
            video_elem_image_type: v.image_type.clone(),
            video_elem_image_size: v.image_size,
            video_elem_image_width: v.image_width,
            video_elem_image_height: v.image_height,
            video_elem_image_path: v.image_path.clone(),
            video_elem_image_id: v.image_id.clone(),
            video_elem_image_download_flag: v.image_download_flag,
            video_elem_image_url: v.image_url.clone(),
            video_elem_task_id: v.task_id,
            extra: Map::new(),
        }),
        ElementBody::Merge(m) => serde_json::to_value(MergeElem {
            elem_type: elem_type::MERGE,
            merge_elem_title: m.title.clone(),
            merge_elem_abstract_array: m.abstracts.clone(),
            merge_elem_compatible_text: m.compatible_text.clone(),
            merge_elem_message_array: m
                .messages
                .as_deref()
                .and_then(|t| serde_json::from_str::<Vec<Value>>(t).ok())
                .unwrap_or_default(),
            merge_elem_layer_over_limit: m.layer_over_limit,
            merge_elem_relay_pb_key: m.relay_pb_key.clone(),
            merge_elem_relay_json_key: m.relay_json_key.clone(),
            merge_elem_relay_buffer: m.relay_buffer.clone(),
            extra: Map::new(),
        }),
        ElementBody::GroupTips(t) => serde_json::to_value(GroupTipsElem {
            elem_type: elem_type::GROUP_TIPS,
            group_tips_elem_tip_type: t.tip_type,
            group_tips_elem_op_user: t.op_user.clone(),
            group_tips_elem_group_name: t.group_name.clone(),
            group_tips_elem_group_id: t.group_id.clone(),
            group_tips_elem_time: t.time,
            group_tips_elem_user_array: t.user_array.clone(),
            group_tips_elem_member_num: t.member_num,
            group_tips_elem_platform: t.platform.clone(),
            extra: Map::new(),
        }),
        ElementBody::GroupReport(r) => serde_json::to_value(GroupReportElem {
            elem_type: elem_type::GROUP_REPORT,
            group_report_elem_report_type: r.report_type,
            group_report_elem_group_id: r.group_id.clone(),
            group_report_elem_group_name: r.group_name.clone(),
            group_report_elem_op_user: r.op_user.clone(),
            group_report_elem_msg: r.msg.clone(),
            group_report_elem_user_data: r.user_data.clone(),
            group_report_elem_platform: r.platform.clone(),
            extra: Map::new(),
        }),
        ElementBody::Other(o) => serde_json::to_value(UnknownElem { elem_type: o.elem_type, extra: Map::new() }),
    };
    let mut value = value.unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        merge_extension(map, elem.extension.as_deref());
    }
    value
}
