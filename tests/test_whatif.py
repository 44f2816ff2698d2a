"""The funnel's what-if (maps/whatif.py): the ranking against hand calculations, the
`whatif` command, and the funnel page's table and slider."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from maps import whatif
from maps.models import JourneyMap, Stage

from .web import HX, html, login

pytestmark = pytest.mark.django_db


def stages(jm: JourneyMap, *rows: tuple) -> None:
    """Replace the map's stages with (key, entered, converted, target) rows, in order."""
    jm.stages.all().delete()
    for order, (key, entered, converted, target) in enumerate(rows):
        Stage.objects.create(
            map=jm,
            key=key,
            name=key.capitalize(),
            order=order,
            entered=entered,
            converted=converted,
            target_conversion=target,
        )


def ranked(jm: JourneyMap) -> list[dict]:
    out = StringIO()
    call_command("whatif", f"{jm.workspace.slug}/{jm.key}", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_reaching_a_target_multiplies_through_the_later_stages(small_map):
    # Won now: 1000 x 0.1 x 0.3 x 0.2 = 6. Capture at 15 %: 1000 x 0.15 x 0.3 x 0.2 = 9;
    # nurture at 40 %: 1000 x 0.1 x 0.4 x 0.2 = 8. Convert is exactly at its target.
    stages(small_map, ("capture", 1000, 100, 0.15), ("nurture", 100, 30, 0.4), ("convert", 30, 6, 0.2))
    rows = ranked(small_map)
    assert [row["stage"] for row in rows] == ["capture", "nurture"]
    assert [(row["won_now"], row["won_if_target"], row["gain"]) for row in rows] == [
        pytest.approx((6, 9, 3), abs=0.05),
        pytest.approx((6, 8, 2), abs=0.05),
    ]
    assert rows[0]["rate"] == pytest.approx(0.1) and rows[0]["target"] == 0.15
    assert set(rows[0]) == {"stage", "rate", "target", "won_now", "won_if_target", "gain"}


def test_a_stage_that_converts_no_one_wins_nothing_now_and_the_most_at_its_target(small_map):
    # Stages without figures (no entered, or 0 entered) and without a target stay out of
    # the ranking; the ones without a target still count in the product.
    # Won now: 2000 x 0.15 x 0.2 x 0 x 0.2 = 0. Demo at its 10 %: 2000 x 0.15 x 0.2 x 0.1 x 0.2 = 1.2.
    # Attract at its 20 %: 2000 x 0.2 x 0.2 x 0 x 0.2 = 0, a gain of 0, still below target.
    stages(
        small_map,
        ("attract", 2000, 300, 0.2),
        ("webinar", None, None, 0.5),
        ("capture", 300, 60, 0.2),
        ("demo", 60, 0, 0.1),
        ("trial", 0, 0, 0.3),
        ("close", 50, 10, None),
    )
    rows = ranked(small_map)
    assert [row["stage"] for row in rows] == ["demo", "attract"]
    assert rows[0]["won_now"] == pytest.approx(0, abs=0.05)
    assert rows[0]["won_if_target"] == pytest.approx(1.2, abs=0.05)
    assert rows[0]["gain"] == pytest.approx(1.2, abs=0.05)
    assert rows[1]["gain"] == pytest.approx(0, abs=0.05)


def test_a_map_without_figures_ranks_nothing(small_map):
    stages(small_map, ("a", None, None, 0.1), ("b", None, 3, 0.2))
    assert ranked(small_map) == []
    out = StringIO()
    call_command("whatif", "acme/launch", stdout=out)
    assert out.getvalue().strip() == "No stage with funnel figures is below its target conversion."


def test_the_command_says_the_ranking_in_words_and_in_japanese(small_map):
    # Now 5240 x 312/5240 x 231/1250 = 57.66; at 8 %: 5240 x 0.08 x 231/1250 = 77.47.
    stages(small_map, ("capture", 5240, 312, 0.08), ("nurture", 1250, 231, 0.15))
    out = StringIO()
    call_command("whatif", "acme/launch", stdout=out)
    assert out.getvalue().strip() == "Raising Capture from 5.95 % to 8 % wins 19.8 more customers per period."
    out = StringIO()
    call_command("whatif", "acme/launch", "--language", "ja", stdout=out)
    assert "19.8" in out.getvalue() and "5.95%" in out.getvalue() and "Raising" not in out.getvalue()


def test_the_command_refuses_an_unknown_map(small_map):
    with pytest.raises(CommandError, match='no map "nope"'):
        call_command("whatif", "acme/nope")


# --- the funnel page ------------------------------------------------------------------------


def test_the_funnel_page_ranks_stages_and_links_each_gain_to_its_drop_off(client, owner, small_map):
    stages(small_map, ("capture", 5240, 312, 0.08), ("nurture", 1250, 231, 0.15), ("expand", None, None, None))
    login(client, owner)
    doc = html(client.get(reverse("funnel", args=["acme", "launch"])))
    (ranking,) = doc.xpath('//ol[@class="whatif-ranking"]')
    assert " ".join(ranking.text_content().split()) == (
        "Raising Capture from 5.95 % to 8 % wins 19.8 more customers per period."
    )
    rows = {
        tr.get("id"): [" ".join(td.text_content().split()) for td in tr.xpath("td")]
        for tr in doc.xpath('//table[contains(@class, "whatif-table")]//tbody/tr')
    }
    assert set(rows) == {"whatif-capture", "whatif-nurture"}  # expand has no figures
    assert rows["whatif-capture"][:4] == ["Capture", "5.95 %", "8 %", "+19.8 ✖ drop-off"]
    assert rows["whatif-nurture"][:4] == ["Nurture", "18.5 %", "15 %", "at or above target"]
    (link,) = doc.xpath('//tr[@id="whatif-capture"]//a[contains(@class, "sev-error")]')
    assert link.get("href") == reverse("stage_edit", args=["acme", "launch", "capture"])


def test_trying_another_rate_shows_the_customers_it_would_win(client, viewer, small_map):
    stages(small_map, ("capture", 1000, 100, 0.15), ("nurture", 100, 30, 0.4), ("convert", 30, 6, 0.2))
    login(client, viewer)
    url = reverse("funnel_whatif", args=["acme", "launch"])
    doc = html(client.get(url, {"stage": "nurture", "rate": "50"}, **HX))
    (result,) = doc.xpath('//output[@id="try-nurture"]')
    # 1000 x 0.1 x 0.5 x 0.2 = 10, against 6 now.
    assert " ".join(result.text_content().split()) == "At 50 %: 10 customers per period (+4)"
    assert doc.xpath('//tr[@id="whatif-nurture"]//input[@type="range"]')[0].get("value") == "50.0"


@pytest.mark.parametrize("rate", ["", "abc", "-1", "100.5", "nan", "inf", "1e400"])
def test_a_rate_that_is_not_a_percentage_gets_a_message(client, owner, small_map, rate):
    stages(small_map, ("capture", 1000, 100, 0.15))
    login(client, owner)
    response = client.get(reverse("funnel_whatif", args=["acme", "launch"]), {"stage": "capture", "rate": rate}, **HX)
    (result,) = html(response).xpath('//output[@id="try-capture"]')
    assert result.text_content().strip() == "Enter a rate from 0 to 100 %."


def test_a_stage_without_figures_cannot_be_tried(client, owner, small_map):
    stages(small_map, ("capture", 1000, 100, 0.15), ("expand", None, None, None))
    login(client, owner)
    response = client.get(reverse("funnel_whatif", args=["acme", "launch"]), {"stage": "expand", "rate": "5"})
    assert response.status_code == 200
    assert "This stage has no funnel figures to try another rate on." in response.content.decode()
    assert '<nav class="tabs"' in response.content.decode()  # without htmx: a page of its own


def test_the_what_if_speaks_japanese(client, owner, small_map):
    stages(small_map, ("capture", 5240, 312, 0.08))
    login(client, owner)
    with translation.override("ja"):
        body = client.get(reverse("funnel", args=["acme", "launch"]), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "What if" not in body and "5.95%" in body


def test_the_slider_reaches_past_the_target_without_leaving_the_stage_a_sliver(small_map):
    stages(small_map, ("capture", 5240, 312, 0.08))
    (row,) = whatif.table(JourneyMap.objects.stages_only().get(pk=small_map.pk))["rows"]
    assert row.slider_max == 16 and row.slider == 5.95
