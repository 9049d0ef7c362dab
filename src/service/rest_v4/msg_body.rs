//! `MsgBody` — an array of `{"MsgType", "MsgContent"}` — to the engine's elements, in the TIM
//! C API's JSON the dispatcher takes. Text, custom, face and location elements map one to
//! one; at most one `TIMCustomElem` a message, as the REST API allows.

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
            other => return Err(bad(format!("MsgType {other:?} is not taken here (text, custom, face, location)"))),
        });
    }
    if customs > 1 {
        return Err(bad("a message holds at most one TIMCustomElem".into()));
    }
    Ok(out)
}

/// The `MsgBody` of a message's TIM C API elements (`message_elem_array`): the four element
/// kinds above; others are left out (they have no REST form here yet).
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
