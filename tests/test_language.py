"""The interface language: the browser's by default, the person's choice once made,
remembered on them (any browser they sign in from) and in a cookie before sign-in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from maps.changes import free_key
from maps.models import UserSettings
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _lang(response) -> str:
    """The `lang` of the page's <html> element."""
    html = response.content.decode()
    start = html.index("<html lang=") + len('<html lang="')
    return html[start : html.index('"', start)]


def test_a_japanese_browser_gets_the_sign_in_page_in_japanese():
    response = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5")
    assert _lang(response) == "ja"
    assert response["Content-Language"] == "ja"


def test_a_browser_asking_for_neither_language_gets_english():
    response = Client().get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr-FR,de;q=0.8")
    assert _lang(response) == "en"


def test_the_language_switch_is_remembered_on_the_person_in_every_browser(client, owner, workspace):
    client.force_login(owner)
    page = reverse("workspace", args=[workspace.slug])
    response = client.post(reverse("set_language"), {"language": "ja", "next": page})
    assert response.status_code == 302 and response["Location"] == page
    assert UserSettings.language_of(owner) == "ja"
    # Another browser, which asks for English, signs in as the same person.
    other = Client()
    other.post(reverse("login"), {"username": owner.username, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en")
    assert _lang(other.get(page, HTTP_ACCEPT_LANGUAGE="en")) == "ja"


def test_switching_back_to_english_wins_over_a_japanese_browser(client, owner, workspace):
    client.force_login(owner)
    client.post(reverse("set_language"), {"language": "ja"})
    client.post(reverse("set_language"), {"language": "en"})
    page = client.get(reverse("workspace", args=[workspace.slug]), HTTP_ACCEPT_LANGUAGE="ja")
    assert _lang(page) == "en"


def test_a_person_who_never_chose_follows_their_browser(client, owner, workspace):
    client.force_login(owner)
    page = reverse("workspace", args=[workspace.slug])
    assert _lang(client.get(page, HTTP_ACCEPT_LANGUAGE="ja")) == "ja"
    assert _lang(client.get(page, HTTP_ACCEPT_LANGUAGE="en")) == "en"


def test_the_switch_before_sign_in_is_kept_in_a_cookie():
    browser = Client()
    response = browser.post(reverse("set_language"), {"language": "ja", "next": reverse("login")})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ja"
    assert _lang(browser.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")) == "ja"


def test_an_unknown_language_is_refused_and_nothing_is_stored(client, owner):
    client.force_login(owner)
    response = client.post(reverse("set_language"), {"language": "fr"})
    assert response.status_code == 400
    assert not UserSettings.objects.exists()
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_switch_never_sends_anyone_to_another_site(client, owner):
    client.force_login(owner)
    response = client.post(reverse("set_language"), {"language": "ja", "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_the_switch_only_answers_a_post(client, owner):
    client.force_login(owner)
    assert client.get(reverse("set_language"), {"language": "ja"}).status_code == 405
    assert not UserSettings.objects.exists()


def test_every_page_offers_both_languages_each_named_in_itself(client, owner, workspace):
    client.force_login(owner)
    html = client.get(reverse("workspace", args=[workspace.slug])).content.decode()
    assert '<button type="submit" name="language" value="ja" lang="ja"' in html
    assert ">日本語</button>" in html and ">English</button>" in html


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("認知から推奨まで", "ninchi-kara-suishou-made"),
        ("ROIシミュレーター", "roi-shimyureetaa"),
        ("導入事例（製造業）", "dounyuu-jirei-seizougyou"),
        ("Retargeting", "retargeting"),
        ("日本向けキャンペーン", "nihonmuke-kyanpeen"),  # no "muke ke": the okurigana is read once
        ("🚀", "map"),
    ],
)
def test_a_name_without_latin_letters_gets_a_readable_key(name, key):
    assert free_key(name, [], "map") == key


def test_two_japanese_names_that_read_alike_get_distinct_keys():
    first = free_key("認知", [])
    assert free_key("認知", [first]) == f"{first}-2"


def _in(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


@pytest.mark.parametrize("path", ["/no-such-page/", "/w/acme/m/no-such-map/"])
def test_a_page_not_found_speaks_the_language_the_person_chose(client, owner, workspace, path):
    UserSettings.choose_language(owner, "ja")
    client.force_login(owner)
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert _lang(response) == "ja"
    assert _in("ja", "Page not found") != "Page not found"
    assert _in("ja", "Page not found") in response.content.decode()


def test_a_refused_form_speaks_the_language_the_person_chose(owner):
    UserSettings.choose_language(owner, "ja")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("set_language"), {"language": "en"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert _lang(response) == "ja"
    assert _in("ja", "This form has expired") != "This form has expired"
    assert _in("ja", "This form has expired") in response.content.decode()
    assert UserSettings.language_of(owner) == "ja"
