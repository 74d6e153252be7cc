"""Text safety: user text is data."""

from __future__ import annotations

import pytest

from bot.blocks import lead_message
from bot.text import channel_link, escape, mention, parse, unescape


def test_escape_neutralises_pings_and_fake_mentions() -> None:
    assert escape("<!channel> & <@U123|boss>") == "&lt;!channel&gt; &amp; &lt;@U123|boss&gt;"
    assert unescape(escape("a < b & c > d")) == "a < b & c > d"


def test_parse_trusts_only_ids() -> None:
    parsed = parse(
        "thanks <@U0AAA|ana> and <@W0BBB> (<!subteam^S0SRE|@sre>) in <#C0CCC|general> "
        "#deploys #Deploys #on-call"
    )
    assert parsed.users == ["U0AAA", "W0BBB"]
    assert parsed.subteams == ["S0SRE"]
    assert parsed.channels == ["C0CCC"]
    assert parsed.tags == ["deploys", "on-call"]
    assert parsed.plain == "thanks and ( ) in"


def test_a_channel_link_is_not_a_tag_and_a_mid_word_hash_is_not_either() -> None:
    parsed = parse("see <#C0CCC|sre> and issue#42")
    assert parsed.tags == []
    assert parsed.channels == ["C0CCC"]


@pytest.mark.parametrize("bad", ["", "U12 3", "<@U1>", "channel", "C123"])
def test_mentions_are_rebuilt_only_from_ids(bad: str) -> None:
    with pytest.raises(ValueError):
        mention(bad)


def test_links_from_ids() -> None:
    assert mention("U0AAA") == "<@U0AAA>"
    assert channel_link("C0CCC") == "<#C0CCC>"


def test_a_message_and_its_fallback_come_from_the_same_escaped_lead() -> None:
    lead = f"*{escape('<!here> & co')}* is new"

    body = lead_message(lead, [{"type": "divider"}])

    assert body["text"] == lead == body["blocks"][0]["text"]["text"]
    assert "<!here>" not in str(body)
