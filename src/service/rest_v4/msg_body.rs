//! `MsgBody` — an array of `{"MsgType", "MsgContent"}` — to the engine's elements, in the TIM
//! C API's JSON the dispatcher takes, and back. Text, custom, face, location, image, sound,
//! file and video elements map one to one; at most one `TIMCustomElem` a message, as the REST
//! API allows. Media elements carry the URLs and UUIDs the app's server gives (its own storage):
//! timsg keeps them as they are and never fetches them for the sender; a receiver downloading
//! one over the service is held to the download rules (see ARCHITECTURE's trust boundary).

use serde_json::{Value, json};

use super::envelope::RestError;

/// `90007`: `MsgBody` is not an array.
pub const ERR_BODY_NOT_ARRAY: i32 = 90007;
/// `90002`: an element of `MsgBody` is malformed.
pub const ERR_BODY_FORMAT: i32 = 90002;

fn bad(info: String) -> RestError {
    RestError::new(ERR_BODY_FORMAT, info)
}

/// A string key of `MsgContent` (`required`: missing is an error; else "").
fn text(content: &Value, key: &str, required: bool) -> Result<String, RestError> {
    match content.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) if !required => Ok(String::new()),
        _ => Err(bad(format!("MsgContent.{key} must be a string"))),
    }
}

/// An optional integer of `MsgContent` (0 when absent).
fn integer(content: &Value, key: &str) -> Result<i64, RestError> {
    match content.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v.as_i64().ok_or_else(|| bad(format!("MsgContent.{key} must be an integer"))),
    }
}

/// A download flag: 2 (the only one the REST API takes) when absent.
fn download_flag(content: &Value, key: &str) -> Result<i64, RestError> {
    match integer(content, key)? {
        0 | 2 => Ok(2),
        other => Err(bad(format!("MsgContent.{key} is {other}: the REST API takes 2"))),
    }
}

/// `TIMImageElem`: the UUID names every rendition; `ImageInfoArray` gives them by `Type`
/// (1 original, 2 large, 3 thumbnail).
fn image(content: &Value) -> Result<Value, RestError> {
    let uuid = text(content, "UUID", true)?;
    let mut e = json!({"elem_type": 1, "image_elem_level": 0, "image_elem_format": integer(content, "ImageFormat")?});
    let infos = match content.get("ImageInfoArray") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(bad("MsgContent.ImageInfoArray must be an array".into())),
    };
    for info in &infos {
        let which = match integer(info, "Type")? {
            1 => "orig",
            2 => "large",
            3 => "thumb",
            other => return Err(bad(format!("ImageInfoArray Type {other} is not 1, 2 or 3"))),
        };
        e[format!("image_elem_{which}_id")] = uuid.clone().into();
        e[format!("image_elem_{which}_url")] = text(info, "URL", true)?.into();
        e[format!("image_elem_{which}_pic_size")] = integer(info, "Size")?.into();
        e[format!("image_elem_{which}_pic_width")] = integer(info, "Width")?.into();
        e[format!("image_elem_{which}_pic_height")] = integer(info, "Height")?.into();
    }
    e["image_elem_orig_id"] = uuid.into();
    Ok(e)
}

fn sound(content: &Value) -> Result<Value, RestError> {
    Ok(json!({"elem_type": 2,
        "sound_elem_url": text(content, "Url", true)?,
        "sound_elem_file_id": text(content, "UUID", true)?,
        "sound_elem_file_size": integer(content, "Size")?,
        "sound_elem_file_time": integer(content, "Second")?,
        "sound_elem_download_flag": download_flag(content, "Download_Flag")?}))
}

fn file(content: &Value) -> Result<Value, RestError> {
    Ok(json!({"elem_type": 4,
        "file_elem_url": text(content, "Url", true)?,
        "file_elem_file_id": text(content, "UUID", true)?,
        "file_elem_file_size": integer(content, "FileSize")?,
        "file_elem_file_name": text(content, "FileName", false)?,
        "file_elem_download_flag": download_flag(content, "Download_Flag")?}))
}

fn video(content: &Value) -> Result<Value, RestError> {
    Ok(json!({"elem_type": 9,
        "video_elem_video_url": text(content, "VideoUrl", true)?,
        "video_elem_video_id": text(content, "VideoUUID", true)?,
        "video_elem_video_size": integer(content, "VideoSize")?,
        "video_elem_video_duration": integer(content, "VideoSecond")?,
        "video_elem_video_type": text(content, "VideoFormat", false)?,
        "video_elem_video_download_flag": download_flag(content, "VideoDownloadFlag")?,
        "video_elem_image_url": text(content, "ThumbUrl", true)?,
        "video_elem_image_id": text(content, "ThumbUUID", true)?,
        "video_elem_image_size": integer(content, "ThumbSize")?,
        "video_elem_image_width": integer(content, "ThumbWidth")?,
        "video_elem_image_height": integer(content, "ThumbHeight")?,
        "video_elem_image_type": text(content, "ThumbFormat", false)?,
        "video_elem_image_download_flag": download_flag(content, "ThumbDownloadFlag")?}))
}

fn number(content: &Value, key: &str) -> Result<f64, RestError> {
    match content.get(key) {
        None | Some(Value::Null) => Ok(0.0),
        Some(v) => v.as_f64().ok_or_else(|| bad(format!("MsgContent.{key} must be a number"))),
    }
}

/// The TIM C API elements (`message_elem_array`) of a `MsgBody`.
pub fn to_elements(body: Option<&Value>) -> Result<Vec<Value>, RestError> {
    let Some(Value::Array(items)) = body else {
        return Err(RestError::new(ERR_BODY_NOT_ARRAY, "MsgBody must be an array of elements"));
    };
    if items.is_empty() {
        return Err(bad("MsgBody holds no element".into()));
    }
    let mut customs = 0;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let kind =
            item.get("MsgType").and_then(Value::as_str).ok_or_else(|| bad("an element without MsgType".into()))?;
        let content = item
            .get("MsgContent")
            .filter(|c| c.is_object())
            .ok_or_else(|| bad(format!("{kind} without MsgContent")))?;
        out.push(match kind {
            "TIMTextElem" => json!({"elem_type": 0, "text_elem_content": text(content, "Text", true)?}),
            "TIMCustomElem" => {
                customs += 1;
                json!({"elem_type": 3,
                    "custom_elem_data": text(content, "Data", true)?,
                    "custom_elem_desc": text(content, "Desc", false)?,
                    "custom_elem_ext": text(content, "Ext", false)?,
                    "custom_elem_sound": text(content, "Sound", false)?})
            }
            "TIMFaceElem" => json!({"elem_type": 6,
                "face_elem_index": number(content, "Index")? as i64,
                "face_elem_buf": text(content, "Data", false)?}),
            "TIMLocationElem" => json!({"elem_type": 7,
                "location_elem_desc": text(content, "Desc", false)?,
                "location_elem_latitude": number(content, "Latitude")?,
                "location_elem_longitude": number(content, "Longitude")?}),
            "TIMImageElem" => image(content)?,
            "TIMSoundElem" => sound(content)?,
            "TIMFileElem" => file(content)?,
            "TIMVideoFileElem" => video(content)?,
            other => return Err(bad(format!("MsgType {other:?} is not a message element"))),
        });
    }
    if customs > 1 {
        return Err(bad("a message holds at most one TIMCustomElem".into()));
    }
    Ok(out)
}

/// The `ImageInfoArray` of an image element: its renditions that have a URL.
fn image_infos(e: &Value) -> Value {
    let infos: Vec<Value> = [(1, "orig"), (2, "large"), (3, "thumb")]
        .into_iter()
        .filter(|(_, which)| e[format!("image_elem_{which}_url")].as_str().is_some_and(|u| !u.is_empty()))
        .map(|(kind, which)| {
            json!({"Type": kind,
                "URL": e[format!("image_elem_{which}_url")],
                "Size": e[format!("image_elem_{which}_pic_size")],
                "Width": e[format!("image_elem_{which}_pic_width")],
                "Height": e[format!("image_elem_{which}_pic_height")]})
        })
        .collect();
    infos.into()
}

/// The `MsgBody` of a message's TIM C API elements (`message_elem_array`): the element kinds
/// above; others (tips, reports, merged messages) have no REST form and are left out.
pub fn from_elements(elements: &Value) -> Value {
    let s = |e: &Value, k: &str| e[k].as_str().unwrap_or_default().to_string();
    let body: Vec<Value> = elements
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| match e["elem_type"].as_i64()? {
            0 => Some(json!({"MsgType": "TIMTextElem", "MsgContent": {"Text": s(e, "text_elem_content")}})),
            3 => Some(json!({"MsgType": "TIMCustomElem", "MsgContent": {
                "Data": s(e, "custom_elem_data"), "Desc": s(e, "custom_elem_desc"),
                "Ext": s(e, "custom_elem_ext"), "Sound": s(e, "custom_elem_sound")}})),
            6 => Some(json!({"MsgType": "TIMFaceElem", "MsgContent": {
                "Index": e["face_elem_index"], "Data": s(e, "face_elem_buf")}})),
            7 => Some(json!({"MsgType": "TIMLocationElem", "MsgContent": {
                "Desc": s(e, "location_elem_desc"), "Latitude": e["location_elem_latitude"],
                "Longitude": e["location_elem_longitude"]}})),
            1 => Some(json!({"MsgType": "TIMImageElem", "MsgContent": {
                "UUID": s(e, "image_elem_orig_id"), "ImageFormat": e["image_elem_format"],
                "ImageInfoArray": image_infos(e)}})),
            2 => Some(json!({"MsgType": "TIMSoundElem", "MsgContent": {
                "Url": s(e, "sound_elem_url"), "UUID": s(e, "sound_elem_file_id"),
                "Size": e["sound_elem_file_size"], "Second": e["sound_elem_file_time"],
                "Download_Flag": e["sound_elem_download_flag"]}})),
            4 => Some(json!({"MsgType": "TIMFileElem", "MsgContent": {
                "Url": s(e, "file_elem_url"), "UUID": s(e, "file_elem_file_id"),
                "FileSize": e["file_elem_file_size"], "FileName": s(e, "file_elem_file_name"),
                "Download_Flag": e["file_elem_download_flag"]}})),
            9 => Some(json!({"MsgType": "TIMVideoFileElem", "MsgContent": {
                "VideoUrl": s(e, "video_elem_video_url"), "VideoUUID": s(e, "video_elem_video_id"),
                "VideoSize": e["video_elem_video_size"], "VideoSecond": e["video_elem_video_duration"],
                "VideoFormat": s(e, "video_elem_video_type"),
                "VideoDownloadFlag": e["video_elem_video_download_flag"],
                "ThumbUrl": s(e, "video_elem_image_url"), "ThumbUUID": s(e, "video_elem_image_id"),
                "ThumbSize": e["video_elem_image_size"], "ThumbWidth": e["video_elem_image_width"],
                "ThumbHeight": e["video_elem_image_height"], "ThumbFormat": s(e, "video_elem_image_type"),
                "ThumbDownloadFlag": e["video_elem_image_download_flag"]}})),
            _ => None,
        })
        .collect();
    body.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_map_one_to_one_and_bad_bodies_get_their_codes() {
        let body = json!([
            {"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}},
            {"MsgType": "TIMFaceElem", "MsgContent": {"Index": 3, "Data": "smile"}},
            {"MsgType": "TIMLocationElem", "MsgContent": {"Desc": "here", "Latitude": 22.5, "Longitude": 113.9}},
            {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"k\":1}", "Desc": "push", "Ext": "", "Sound": ""}}
        ]);
        let e = to_elements(Some(&body)).unwrap();
        assert_eq!(from_elements(&Value::from(e.clone())), body, "and back");
        assert_eq!(e[0], json!({"elem_type": 0, "text_elem_content": "hi"}));
        assert_eq!((e[1]["face_elem_index"].as_i64(), e[1]["face_elem_buf"].as_str()), (Some(3), Some("smile")));
        assert_eq!(e[2]["location_elem_latitude"], 22.5);
        assert_eq!(
            (e[3]["custom_elem_data"].as_str(), e[3]["custom_elem_desc"].as_str()),
            (Some("{\"k\":1}"), Some("push"))
        );
        assert_eq!(to_elements(Some(&json!({"MsgType": "TIMTextElem"}))).unwrap_err().code, ERR_BODY_NOT_ARRAY);
        assert_eq!(to_elements(None).unwrap_err().code, ERR_BODY_NOT_ARRAY);
        let two_customs = json!([{"MsgType": "TIMCustomElem", "MsgContent": {"Data": "a"}}, {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "b"}}]);
        assert_eq!(to_elements(Some(&two_customs)).unwrap_err().code, ERR_BODY_FORMAT);
        for bad in
            [json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": 5}}]), json!([{"MsgContent": {}}]), json!([])]
        {
            assert_eq!(to_elements(Some(&bad)).unwrap_err().code, ERR_BODY_FORMAT, "{bad}");
        }
    }
}
