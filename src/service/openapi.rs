//! `GET /v1/openapi.json`: an OpenAPI 3 document of the whole service, built from the
//! dispatcher's table and the REST v4 command table so it cannot drift from the endpoints
//! (tests hold it to that).

use actix_web::HttpResponse;
use serde_json::{Map, Value, json};

use crate::dispatch::API_TABLE;

fn auth_params() -> Value {
    json!([
        {"name": "X-TIM-User", "in": "header", "required": true, "schema": {"type": "string"}, "description": "the calling user"},
        {"name": "X-TIM-UserSig", "in": "header", "required": true, "schema": {"type": "string"}, "description": "the user's UserSig v2"},
        {"name": "X-TIM-Act-As", "in": "header", "required": false, "schema": {"type": "string"}, "description": "admin only: the user to act as"}
    ])
}

fn result_schema() -> Value {
    json!({"$ref": "#/components/schemas/Result"})
}

/// The document.
pub fn build() -> Value {
    let mut paths = Map::new();
    for (api, _) in API_TABLE {
        paths.insert(
            format!("/v1/{api}"),
            json!({"post": {
                "operationId": api,
                "summary": format!("{api}, as the TIM C SDK function of that name"),
                "parameters": auth_params(),
                "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Call"}}}},
                "responses": {
                    "200": {"description": "the callback's code, description and JSON", "content": {"application/json": {"schema": result_schema()}}},
                    "400": {"description": "refused before it started (TIM_ERR_JSON, TIM_ERR_PARAM, TIM_ERR_CONV)", "content": {"application/json": {"schema": result_schema()}}},
                    "401": {"description": "no or bad UserSig", "content": {"application/json": {"schema": result_schema()}}},
                    "403": {"description": "acting as another user without being the admin", "content": {"application/json": {"schema": result_schema()}}},
                    "413": {"description": "body over 1 MB (9522)", "content": {"application/json": {"schema": result_schema()}}}
                }
            }}),
        );
    }
    paths.insert(
        "/v1/events".into(),
        json!({"get": {
            "operationId": "events",
            "summary": "the user's events over WebSocket: {cursor, event, json}; reconnect with ?cursor=N. Text frames {id, api, conv_id, conv_type, param, opt, path} are calls, answered with {reply: id, code, desc, json_params}",
            "parameters": [
                {"name": "cursor", "in": "query", "required": false, "schema": {"type": "integer", "format": "int64"}},
                {"name": "user", "in": "query", "required": false, "schema": {"type": "string"}},
                {"name": "usersig", "in": "query", "required": false, "schema": {"type": "string"}}
            ],
            "responses": {"101": {"description": "switching to WebSocket"}, "401": {"description": "no or bad UserSig"}}
        }}),
    );
    paths.insert("/v1/blobs".into(), json!({"put": {
        "operationId": "putBlob",
        "parameters": auth_params(),
        "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {"201": {"description": "stored: {hash, size, url}"}, "413": {"description": "too large"}}
    }}));
    paths.insert("/v1/blobs/{hash}".into(), json!({"get": {
        "operationId": "getBlob",
        "parameters": [{"name": "hash", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "the blob"}, "206": {"description": "a range of it"}, "404": {"description": "no such blob"}}
    }}));
    for (path, id, what) in [
        ("/metrics", "metrics", "Prometheus metrics (text format)"),
        ("/healthz", "healthz", "the process is up"),
        ("/readyz", "readyz", "the store is open and writable"),
        ("/v1/openapi.json", "openapi", "this document"),
    ] {
        paths.insert(
            path.into(),
            json!({"get": {"operationId": id, "summary": what, "responses": {"200": {"description": what}}}}),
        );
    }
    for (command, what) in crate::service::rest_v4::COMMANDS {
        let param = |name: &str, what: &str| json!({"name": name, "in": "query", "required": true, "schema": {"type": "string"}, "description": what});
        paths.insert(
            format!("/v4/{command}"),
            json!({"post": {
                "operationId": format!("v4_{}", command.replace('/', "_")),
                "summary": format!("TIM server REST API v4: {what}"),
                "parameters": [
                    param("sdkappid", "the app's SDKAppID"),
                    param("identifier", "the admin account"),
                    param("usersig", "the admin's UserSig v2"),
                    param("random", "a random unsigned 32-bit number"),
                    param("contenttype", "json")
                ],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "always 200: ActionStatus OK or FAIL, ErrorCode, ErrorInfo and the command's keys",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RestReply"}}}}}
            }}),
        );
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "timsg", "version": env!("CARGO_PKG_VERSION"), "description": "The Tencent Cloud IM message API over HTTP and WebSocket"},
        "paths": paths,
        "components": {"schemas": {
            "Call": {"type": "object", "properties": {
                "conv_id": {"type": "string"},
                "conv_type": {"type": "integer", "description": "1 C2C, 2 group"},
                "param": {"description": "the C call's JSON argument: an object, an array or a string"},
                "opt": {"type": "integer", "description": "TIMReceiveMessageOpt, for the receive-option setters"},
                "path": {"type": "string", "description": "TIMMsgDownloadElemToPath's destination"}
            }},
            "RestReply": {"type": "object", "required": ["ActionStatus", "ErrorCode", "ErrorInfo"], "properties": {
                "ActionStatus": {"type": "string", "enum": ["OK", "FAIL"]},
                "ErrorCode": {"type": "integer"},
                "ErrorInfo": {"type": "string"}
            }},
            "Result": {"type": "object", "required": ["code", "desc", "json_params"], "properties": {
                "code": {"type": "integer"},
                "desc": {"type": "string"},
                "json_params": {"description": "the callback's JSON"}
            }}
        }}
    })
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(build())
}
