//! Document requests for the embedded page, as Shopify's managed install opens
//! it (`/admin/?embedded=1&shop=..&host=..&id_token=..`): without a valid
//! `id_token` they bounce to the page that lets App Bridge fetch one; with one,
//! the shop is onboarded (its project created) and the page served.

mod support;

use serde_json::json;
use support::*;

const HOST: &str = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYm91bmNl";

fn get(server: &lummmen_server::ServerHandle, path: &str) -> reqwest::RequestBuilder {
    client().get(format!("{}{path}", server.url()))
}

#[tokio::test]
async fn an_embedded_load_without_a_valid_id_token_bounces_and_a_valid_one_onboards_the_shop() {
    let dir = TempDir::new("bounce");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let shop = "bounce-shop.myshopify.com";
    let expired = {
        let mut c = claims(shop);
        c["exp"] = json!(now() - 30);
        jwt(SECRET, &json!({"alg": "HS256", "typ": "JWT"}), &c)
    };
    for id_token in [None, Some("garbage".to_string()), Some(expired)] {
        let mut path = format!("/admin/?embedded=1&shop={shop}&host={HOST}");
        if let Some(t) = &id_token {
            path.push_str(&format!("&id_token={t}"));
        }
        let r = get(&server, &path).send().await.expect("load");
        assert_eq!(r.status(), 302, "{id_token:?}");
        let to = r.headers()["location"].to_str().expect("location").to_string();
        let reload = format!("%2Fadmin%2F%3Fembedded%3D1%26shop%3D{shop}%26host%3D{HOST}");
        assert_eq!(to, format!("/auth/session-token?shop={shop}&host={HOST}&shopify-reload={reload}"));
        let page = get(&server, &to).send().await.expect("bounce page");
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("html");
        assert!(html.contains("https://cdn.shopify.com/shopifycloud/app-bridge.js"), "{html}");
        assert!(html.contains(&format!(r#"<meta name="shopify-api-key" content="{CLIENT_ID}">"#)), "{html}");
    }
    assert_eq!(
        server.meta().project_of_shop(shop).await.expect("read"),
        None,
        "no project before a valid token"
    );

    let valid = session_token(shop);
    let r = get(&server, &format!("/admin/?embedded=1&shop={shop}&host={HOST}&id_token={valid}"))
        .send()
        .await
        .expect("load");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("html").contains("shopify-api-key"));
    let project = server.meta().project_of_shop(shop).await.expect("read").expect("onboarded on page load");
    assert_eq!((project.name.as_str(), project.sample), ("bounce-shop", 100));

    // The bounce page only ever reloads a path of this app.
    for bad in [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example%2F",
        "%2F%09%2Fevil.example",
        "%2F%5Cevil.example",
        "",
    ] {
        let r = get(&server, &format!("/auth/session-token?shopify-reload={bad}")).send().await.expect("get");
        assert_eq!(r.status(), 400, "{bad}");
        let body: serde_json::Value = r.json().await.expect("JSON");
        assert_eq!(body["error"], "bad_request");
    }
    // Outside the admin (not embedded) the page is served as it is.
    assert_eq!(get(&server, "/admin/").send().await.expect("plain").status(), 200);
}
