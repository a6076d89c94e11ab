"""Rendering an alert: text and HTML name who, which half-days, what to do, and link."""

from __future__ import annotations

from app.notifications.render import (
    AlertNotice,
    alert_email,
    alert_payload,
    notice_of,
    public_details,
)

DETAILS = {
    "dedup_key": "contingency:n1:F010",
    "who": ["Dr. <b>Lee</b>"],
    "halfdays": ["2026-11-30 AM", "2026-12-01 PM"],
    "action": "Name a backup.",
    "half_days": 3,
}


def _notice(event: str = "raised") -> AlertNotice:
    return notice_of(
        alert_id=7,
        event=event,
        level="critical",
        message="Dr. Lee is critical <script>x</script>",
        dedup_key="contingency:n1:F010",
        details=DETAILS,
        occurred_at="2026-11-30T06:00:00+00:00",
        public_url="https://scheduler.example.org/",
    )


def test_email_names_findings_and_links_dashboard_when_rendered() -> None:
    email = alert_email(_notice(), ("pd@example.org",), "msg_1")

    assert email.subject == "[CRITICAL] Dr. Lee is critical <script>x</script>"
    assert "Who: Dr. <b>Lee</b>\n" in email.text
    assert "Half-days: 2026-11-30 AM, 2026-12-01 PM\n" in email.text
    assert "What to do: Name a backup.\n" in email.text
    assert "  half_days: 3\n" in email.text
    assert "https://scheduler.example.org/alerts/7" in email.text
    assert email.html is not None
    assert "Dr. &lt;b&gt;Lee&lt;/b&gt;" in email.html
    assert "&lt;script&gt;x&lt;/script&gt;" in email.html and "<script>" not in email.html
    assert '<a href="https://scheduler.example.org/alerts/7">' in email.html


def test_resolution_says_nothing_to_do_when_rendered() -> None:
    email = alert_email(_notice("resolved"), ("pd@example.org",), "msg_2")
    assert email.subject.startswith("[RESOLVED] ")
    assert "What to do: Nothing: the finding has gone away." in email.text


def test_payload_carries_public_fields_when_built() -> None:
    payload = alert_payload(_notice())
    assert payload["type"] == "alert.raised"
    assert payload["data"]["who"] == ["Dr. <b>Lee</b>"]
    assert payload["data"]["url"] == "https://scheduler.example.org/alerts/7"
    assert payload["data"]["details"]["half_days"] == 3


def test_public_details_drops_private_keys_and_values_when_filtered() -> None:
    got = public_details(
        {
            "absence_type": "sick",
            "type": "medical",
            "reason": "x",
            "family": "y",
            "kind": "parental",
            "reasons": ["RED: gap within 7 days"],
            "text": "back from TDY on Monday",
            "n": 2,
            "none": None,
        }
    )
    assert got == {
        "reasons": ["RED: gap within 7 days"],
        "text": "back from [private] on Monday",
        "n": 2,
        "none": None,
    }
