//! Login throttling per account and per client, shared through the database.

use super::*;

#[tokio::test]
async fn after_five_wrong_passwords_the_sixth_attempt_is_refused_even_with_the_right_password() {
    let app = smtp_app().await;
    register_and_verify(&app, "jade@rigmarket.test").await;
    for _ in 0..5 {
        let response = login(&app, "jade@rigmarket.test", "wrong password!").await;
        assert_problem(response, 401, "invalid_credentials").await;
    }
    let refused = login(&app, "jade@rigmarket.test", PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 429, "the 6th attempt must wait");
    let wait = retry_after(&refused);
    assert!(wait >= 1, "{wait}");
    assert_problem(refused, 429, "rate_limited").await;
    assert!(!audit_entries_for(&app, "auth.login_throttled").await.is_empty());

    app.clock.advance(Duration::seconds(wait));
    login_ok(&app, "jade@rigmarket.test", PASSWORD).await;
}

/// Logs in with a wrong password until the answer is 429; returns how many 401s
/// came first, the Retry-After and the 429 body.
async fn fail_until_throttled(app: &TestApp, email: &str) -> (usize, i64, Value) {
    for failures in 0..10 {
        let response = login(app, email, "wrong password!").await;
        if response.status().as_u16() == 429 {
            let wait = retry_after(&response);
            return (failures, wait, assert_problem(response, 429, "rate_limited").await);
        }
        assert_problem(response, 401, "invalid_credentials").await;
    }
    panic!("{email}: ten wrong passwords in a row and still no 429");
}

#[tokio::test]
async fn login_back_off_doubles_and_lifts_once_the_wait_is_over() {
    let app = smtp_app().await;
    register_and_verify(&app, "kira@rigmarket.test").await;
    let (failures, first_wait, _) = fail_until_throttled(&app, "kira@rigmarket.test").await;
    assert!((5..=6).contains(&failures), "{failures} failures before the first 429");
    assert!(first_wait >= 1, "{first_wait}");

    // While blocked even the right password is refused.
    assert_eq!(login(&app, "kira@rigmarket.test", PASSWORD).await.status().as_u16(), 429);

    // The wait ends; one more failure doubles it.
    app.clock.advance(Duration::seconds(first_wait));
    assert_problem(login(&app, "kira@rigmarket.test", "wrong password!").await, 401, "invalid_credentials").await;
    let refused = login(&app, "kira@rigmarket.test", PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 429);
    assert_eq!(retry_after(&refused), first_wait * 2);

    app.clock.advance(Duration::seconds(first_wait * 2));
    login_ok(&app, "kira@rigmarket.test", PASSWORD).await;
}

#[tokio::test]
async fn unknown_emails_are_throttled_exactly_like_real_accounts() {
    let app = smtp_app().await;
    register_and_verify(&app, "lena@rigmarket.test").await;
    let known = fail_until_throttled(&app, "lena@rigmarket.test").await;
    let unknown = fail_until_throttled(&app, "ghost@rigmarket.test").await;
    assert_eq!(known, unknown, "throttling must not reveal which accounts exist");
}

#[tokio::test]
async fn twenty_failures_from_one_client_block_it_for_yet_another_email() {
    let app = spawn_app().await;
    for n in 0..20 {
        let response = login(&app, &format!("spray{n}@rigmarket.test"), "Winter2025!!").await;
        assert_problem(response, 401, "invalid_credentials").await;
    }
    let refused = login(&app, "spray-next@rigmarket.test", "Winter2025!!").await;
    assert_eq!(refused.status().as_u16(), 429, "the 21st attempt from this IP must wait");
    let wait = retry_after(&refused);
    assert!(wait >= 1);
    assert_problem(refused, 429, "rate_limited").await;
    app.clock.advance(Duration::seconds(wait));
    let allowed = login(&app, "spray-next@rigmarket.test", "Winter2025!!").await;
    assert_problem(allowed, 401, "invalid_credentials").await;
}

// ---------------------------------------------------------------- JWT attacks

fn rate_limit(response: &reqwest::Response) -> (i64, i64, i64) {
    let value = |name: &str| -> i64 {
        let header = response.headers().get(name).unwrap_or_else(|| panic!("a login answer without {name}"));
        header.to_str().unwrap().parse().unwrap()
    };
    (value("ratelimit-limit"), value("ratelimit-remaining"), value("ratelimit-reset"))
}

#[tokio::test]
async fn every_login_answer_says_how_many_failures_are_left_and_when_that_resets() {
    let app = smtp_app().await;
    register_and_verify(&app, "mira@rigmarket.test").await;
    let first = login(&app, "mira@rigmarket.test", "wrong password!").await;
    assert_eq!(first.status().as_u16(), 401);
    assert_eq!(rate_limit(&first), (5, 4, 3600), "four free failures left; the streak is forgotten in an hour");
    for left in (0..4).rev() {
        app.clock.advance(Duration::seconds(10));
        let response = login(&app, "mira@rigmarket.test", "wrong password!").await;
        let (limit, remaining, _) = rate_limit(&response);
        assert_eq!((limit, remaining), (5, left));
    }
    let refused = login(&app, "mira@rigmarket.test", PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 429);
    let (_, remaining, reset) = rate_limit(&refused);
    assert_eq!((remaining, reset), (0, retry_after(&refused)), "while blocked, Reset is the wait");

    app.clock.advance(Duration::seconds(retry_after(&refused)));
    let ok = login(&app, "mira@rigmarket.test", PASSWORD).await;
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(rate_limit(&ok), (5, 5, 0), "a good password clears the account's streak");
}

#[tokio::test]
async fn retry_after_covers_the_whole_wait_when_it_is_not_whole_seconds() {
    let app = smtp_app().await;
    register_and_verify(&app, "nora@rigmarket.test").await;
    let (_, first_wait, _) = fail_until_throttled(&app, "nora@rigmarket.test").await;
    app.clock.advance(Duration::seconds(first_wait));
    // The next failure blocks for 2 s; half a second of it goes by.
    assert_problem(login(&app, "nora@rigmarket.test", "wrong password!").await, 401, "invalid_credentials").await;
    app.clock.advance(Duration::milliseconds(500));
    let refused = login(&app, "nora@rigmarket.test", PASSWORD).await;
    assert_eq!(refused.status().as_u16(), 429);
    let wait = retry_after(&refused);
    assert!(wait * 1000 >= 1500, "Retry-After {wait} s is shorter than the 1.5 s still to wait");
    assert_eq!(wait, 2, "rounded up, not down");
    // Waiting exactly as told is enough.
    app.clock.advance(Duration::seconds(wait));
    login_ok(&app, "nora@rigmarket.test", PASSWORD).await;
}
