//! Message elements, the domain form: what a message carries, without TIM key strings.
//!
//! The wire layer (`timsg::wire`) maps each variant to its TIM JSON object. Keys the wire layer
//! does not model travel in [`Element::extension`] as opaque text, so they survive a round trip
//! through the store untouched.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One element of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Element {
    pub body: ElementBody,
    /// Unmodelled keys of the element, as a JSON object text. Opaque to this crate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Arc<str>>,
}

impl Element {
    pub fn new(body: ElementBody) -> Element {
        Element { body, extension: None }
    }

    pub fn text(content: impl Into<String>) -> Element {
        Element::new(ElementBody::Text(TextElement { content: content.into() }))
    }

    pub fn custom(data: impl Into<String>) -> Element {
        Element::new(ElementBody::Custom(Box::new(CustomElement { data: data.into(), ..Default::default() })))
    }

    /// The `TIMElemType` number of this element.
    pub fn type_number(&self) -> i32 {
        self.body.type_number()
    }

    /// Whether sending this element first needs an upload: a local file to store as a blob,
    /// or merged messages to store as a blob.
    pub fn needs_upload(&self) -> bool {
        match &self.body {
            ElementBody::Image(i) => !i.orig_path.is_empty() && i.orig.id.is_empty(),
            ElementBody::Sound(s) => !s.file_path.is_empty() && s.file_id.is_empty(),
            ElementBody::File(f) => !f.file_path.is_empty() && f.file_id.is_empty(),
            ElementBody::Video(v) => !v.video_path.is_empty() && v.video_id.is_empty(),
            ElementBody::Merge(m) => m.messages.is_some() && m.relay_json_key.is_empty(),
            _ => false,
        }
    }

    /// Blob hashes the element refers to (IDs that are SHA-256 hex names of stored blobs).
    pub fn blob_refs(&self, out: &mut Vec<String>) {
        let mut push = |id: &str| {
            let hash = id.get(..64).unwrap_or("");
            if crate::media::blob::is_blob_hash(hash) && !out.iter().any(|h| h == hash) {
                out.push(hash.to_string());
            }
        };
        match &self.body {
            ElementBody::Image(i) => {
                for r in [&i.orig, &i.large, &i.thumb] {
                    push(&r.id);
                }
            }
            ElementBody::Sound(s) => push(&s.file_id),
            ElementBody::File(f) => push(&f.file_id),
            ElementBody::Video(v) => {
                push(&v.video_id);
                push(&v.image_id);
            }
            ElementBody::Merge(m) => push(&m.relay_json_key),
            _ => {}
        }
    }

    /// Clients may send every element type of the API except the backend-generated ones
    /// (group tips and reports, friend and profile changes) and numbers the API does not
    /// have (999, -1): the SDK refuses those too.
    pub fn is_client_sendable(&self) -> bool {
        !matches!(self.body, ElementBody::GroupTips(_) | ElementBody::GroupReport(_) | ElementBody::Other(_))
    }

    /// Text the local search index sees for this element.
    pub fn searchable_text(&self, out: &mut String) {
        let mut push = |s: &str| {
            if !s.is_empty() {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(s);
            }
        };
        match &self.body {
            ElementBody::Text(t) => push(&t.content),
            ElementBody::Custom(c) => {
                push(&c.data);
                push(&c.desc);
                push(&c.ext);
            }
            ElementBody::File(f) => push(&f.file_name),
            ElementBody::Location(l) => push(&l.desc),
            ElementBody::Merge(m) => {
                push(&m.title);
                for a in &m.abstracts {
                    push(a);
                }
            }
            _ => {}
        }
    }

    /// Bytes of client-supplied content, for the message body size limit.
    pub fn content_bytes(&self) -> usize {
        let ext = self.extension.as_deref().map_or(0, str::len);
        ext + match &self.body {
            ElementBody::Text(t) => t.content.len(),
            ElementBody::Custom(c) => c.data.len() + c.desc.len() + c.ext.len() + c.sound.len(),
            ElementBody::Face(f) => f.buf.len() + 4,
            ElementBody::Location(l) => l.desc.len() + 16,
            ElementBody::Image(i) => i.orig_path.len(),
            ElementBody::Sound(s) => s.file_path.len(),
            ElementBody::File(f) => f.file_path.len() + f.file_name.len(),
            ElementBody::Video(v) => v.video_path.len() + v.image_path.len() + v.video_type.len(),
            ElementBody::Merge(m) => {
                m.title.len() + m.compatible_text.len() + m.abstracts.iter().map(String::len).sum::<usize>()
            }
            ElementBody::GroupTips(_) | ElementBody::GroupReport(_) | ElementBody::Other(_) => 0,
        }
    }
}

/// The large element kinds are boxed: every stored message holds its elements for as long as
/// it is kept, and unboxed the enum was 288 bytes for a five-letter text (the size of its
/// largest kind, the image), which made most of an in-memory message's footprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ElementBody {
    Text(TextElement),
    Image(Box<ImageElement>),
    Sound(Box<SoundElement>),
    Custom(Box<CustomElement>),
    File(Box<FileElement>),
    GroupTips(Box<GroupTipsElement>),
    Face(FaceElement),
    Location(LocationElement),
    GroupReport(Box<GroupReportElement>),
    Video(Box<VideoElement>),
    Merge(Box<MergeElement>),
    /// FriendChange (10), ProfileChange (11), Invalid (-1) and any future type: only the type
    /// number is modelled, the rest lives in the element's extension.
    Other(OtherElement),
}

impl ElementBody {
    pub fn type_number(&self) -> i32 {
        match self {
            ElementBody::Text(_) => 0,
            ElementBody::Image(_) => 1,
            ElementBody::Sound(_) => 2,
            ElementBody::Custom(_) => 3,
            ElementBody::File(_) => 4,
            ElementBody::GroupTips(_) => 5,
            ElementBody::Face(_) => 6,
            ElementBody::Location(_) => 7,
            ElementBody::GroupReport(_) => 8,
            ElementBody::Video(_) => 9,
            ElementBody::Merge(_) => 12,
            ElementBody::Other(o) => o.elem_type,
        }
    }
}

/// Bit for an element type in a message's type mask (types outside 0..=30 share bit 31).
pub fn type_bit(elem_type: i32) -> u32 {
    if (0..=30).contains(&elem_type) { 1 << elem_type } else { 1 << 31 }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TextElement {
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CustomElement {
    pub data: String,
    pub desc: String,
    pub ext: String,
    pub sound: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FaceElement {
    pub index: i64,
    pub buf: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LocationElement {
    pub desc: String,
    pub longitude: f64,
    pub latitude: f64,
}

/// One rendition of an image (original, large or thumbnail).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageRendition {
    pub id: String,
    pub width: i64,
    pub height: i64,
    pub size: i64,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageElement {
    pub orig_path: String,
    /// `TIMImageLevel`: 0 original, 1 compressed (default), 2 HD.
    pub level: i64,
    /// 0xff unknown, 1 JPG, 2 GIF, 3 PNG, 4 BMP.
    pub format: i64,
    pub orig: ImageRendition,
    pub large: ImageRendition,
    pub thumb: ImageRendition,
    pub task_id: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SoundElement {
    pub file_path: String,
    pub file_size: i64,
    pub file_time: i64,
    pub file_id: String,
    pub business_id: i64,
    pub download_flag: i64,
    pub url: String,
    pub task_id: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FileElement {
    pub file_path: String,
    pub file_name: String,
    pub file_size: i64,
    pub file_id: String,
    pub business_id: i64,
    pub download_flag: i64,
    pub url: String,
    pub task_id: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VideoElement {
    pub video_type: String,
    pub video_size: i64,
    pub video_duration: i64,
    pub video_path: String,
    pub video_id: String,
    pub business_id: i64,
    pub video_download_flag: i64,
    pub video_url: String,
    pub image_type: String,
    pub image_size: i64,
    pub image_width: i64,
    pub image_height: i64,
    pub image_path: String,
    pub image_id: String,
    pub image_download_flag: i64,
    pub image_url: String,
    pub task_id: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MergeElement {
    pub title: String,
    pub abstracts: Vec<String>,
    pub compatible_text: String,
    pub layer_over_limit: bool,
    pub relay_pb_key: String,
    pub relay_json_key: String,
    pub relay_buffer: String,
    /// The merged messages as the wire layer encoded them (a JSON array text); opaque here.
    /// Present on the send side; after the send they live in a blob named by the relay key.
    pub messages: Option<Arc<str>>,
    /// Messages directly merged (at most 300).
    #[serde(default)]
    pub message_count: u32,
    /// Nesting layers, this one included (at most 100).
    #[serde(default)]
    pub depth: u32,
}

/// Merged messages per merge element at most.
pub const MAX_MERGED_MESSAGES: u32 = 300;
/// Nesting layers of merged messages at most.
pub const MAX_MERGE_DEPTH: u32 = 100;

/// `TIMGroupTipType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupTipType {
    None = 0,
    Invite = 1,
    Quit = 2,
    Kick = 3,
    SetAdmin = 4,
    CancelAdmin = 5,
    GroupInfoChange = 6,
    MemberInfoChange = 7,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupTipsElement {
    pub tip_type: u32,
    pub op_user: String,
    pub group_name: String,
    pub group_id: String,
    pub time: u64,
    pub user_array: Vec<String>,
    pub member_num: u64,
    pub platform: String,
}

/// `TIMGroupReportType` values the group module emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupReportType {
    BeKicked = 4,
    Delete = 5,
    Create = 6,
    Invite = 7,
    Quit = 8,
    GrantAdmin = 9,
    CancelAdmin = 10,
    /// A notice of the app's own (the REST API's `send_group_system_notification`): the
    /// content is in `user_data`.
    UserDefine = 16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupReportElement {
    pub report_type: u32,
    pub group_id: String,
    pub group_name: String,
    pub op_user: String,
    pub msg: String,
    pub user_data: String,
    pub platform: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherElement {
    pub elem_type: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_stays_small_whatever_its_kind() {
        assert!(std::mem::size_of::<Element>() <= 64, "{} bytes", std::mem::size_of::<Element>());
    }
}
