"""Review cards: found in pages, kept through edits, scheduled by FSRS per user, reviewed
through HTTP with and without JavaScript's JSON."""

import re
from datetime import UTC, datetime, timedelta

import fsrs
import pytest
from sqlalchemy import insert, select

from tests.helpers import csrf_token, sql_statements, submit
from wiki.extensions import db
from wiki.models import Card, CardSchedule, ReviewLog, User
from wiki.services import access, cards, pages
from wiki.services.cards import BASIC, BLANK, CLOZE, Found, extract

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


# --- extraction -------------------------------------------------------------------------

def test_a_line_with_a_spaced_double_colon_is_a_card():
    assert extract("Intro.\n\nCapital of France :: Paris\n- Flask's author :: Armin\n"
                   "1. Jinja delimiter :: `{{ }}`") == [
        Found(BASIC, "Capital of France", "Paris"),
        Found(BASIC, "Flask's author", "Armin"),
        Found(BASIC, "Jinja delimiter", "`{{ }}`"),
    ]


@pytest.mark.parametrize("markdown", [
    "```\nnot :: a card\n```",
    "~~~python\nx = a :: b\n~~~",
    "````\n```\nstill code :: here\n```\n````",
    "Use `a :: b` in Haskell",
    "std::vector<int> v; std::cout",
    "See https://example.org::8080 and http://x",
    " :: no question",
    "no answer :: ",
    "a::b",
])
def test_code_urls_and_cplusplus_are_not_cards(markdown):
    assert extract(markdown) == []


def test_after_a_fence_closes_cards_count_again():
    assert extract("```\ncode :: here\n```\nAfter :: fence") == [Found(BASIC, "After", "fence")]


def test_a_line_marked_card_makes_one_cloze_per_highlight():
    assert extract("- ==Flask== was written by ==Armin Ronacher== #card") == [
        Found(CLOZE, f"{BLANK} was written by Armin Ronacher", "Flask"),
        Found(CLOZE, f"Flask was written by {BLANK}", "Armin Ronacher"),
    ]


@pytest.mark.parametrize("markdown", [
    "==highlight== without the mark",
    "no highlight #card",
    "`==code==` only #card",
    "```\n==in== a fence #card\n```",
])
def test_no_cloze_without_the_mark_or_outside_code(markdown):
    assert extract(markdown) == []


# --- identity across edits ----------------------------------------------------------------

@pytest.fixture
def editor_user(app, users):
    with app.app_context():
        yield db.session.get(User, users["editor"].id)


def save(slug, body, author, title="Deck"):
    return pages.save(pages.PageEdit(slug, title, body), author)


def card_ids(slug="deck") -> dict[str, int]:
    """Active cards of the page: question → id."""
    page = pages.get_page(slug)
    rows = db.session.scalars(select(Card).where(Card.page_id == page.id,
                                                 Card.retired.is_(False)).order_by(Card.position))
    return {card.question: card.id for card in rows}


def all_cards() -> dict[int, tuple[str, bool]]:
    return {card.id: (card.question, card.retired) for card in db.session.scalars(select(Card))}


def test_cards_keep_their_ids_through_edits(app, editor_user):
    save(None, "Q one :: A\nQ two :: B\nQ three :: C", editor_user)
    first = card_ids()
    # answer edited, lines moved and swapped, text around added
    save("deck", "Intro text.\n\nQ three :: C\nQ one :: changed answer\n\nQ two :: B", editor_user)
    assert card_ids() == first
    # the question reworded slightly
    save("deck", "Q three :: C\nQ one? :: changed answer\nQ two :: B", editor_user)
    assert card_ids() == {"Q three": first["Q three"], "Q one?": first["Q one"],
                          "Q two": first["Q two"]}
    assert db.session.get(Card, first["Q one"]).answer == "changed answer"


def test_a_different_question_is_a_new_card_and_the_old_one_retires(app, editor_user):
    save(None, "What is WSGI? :: An interface", editor_user)
    old = card_ids()["What is WSGI?"]
    save("deck", "Who wrote Jinja? :: Armin", editor_user)
    new = card_ids()["Who wrote Jinja?"]
    assert new != old and all_cards()[old] == ("What is WSGI?", True)


def test_duplicate_questions_are_two_cards_that_stay_two(app, editor_user):
    save(None, "Same :: one\nOther :: x\nSame :: two", editor_user)
    rows = db.session.scalars(select(Card).order_by(Card.position)).all()
    ids = [card.id for card in rows if card.question == "Same"]
    assert len(set(ids)) == 2
    save("deck", "Same :: one\nSame :: two\nOther :: x", editor_user)
    again = db.session.scalars(select(Card).where(Card.question == "Same",
                                                  Card.retired.is_(False))).all()
    assert sorted(card.id for card in again) == sorted(ids)


def test_a_deleted_line_restored_brings_back_its_card_and_schedule(app, editor_user):
    save(None, "Keep :: me\nRestore :: me", editor_user)
    restored = card_ids()["Restore"]
    cards.grade(editor_user, restored, 3, now=NOW)
    save("deck", "Keep :: me", editor_user)
    assert all_cards()[restored] == ("Restore", True)
    assert cards.get_card(restored) is None
    save("deck", "Keep :: me\nRestore :: me", editor_user)
    assert card_ids()["Restore"] == restored
    assert db.session.get(CardSchedule, (editor_user.id, restored)).state == fsrs.State.Learning


def test_renaming_keeps_cards_and_deleting_retires_them_until_restored(app, editor_user, users):
    save(None, "Q :: A", editor_user)
    card_id = card_ids()["Q"]
    pages.rename("deck", "Renamed deck", editor_user, rewrite_links=False)
    assert card_ids("renamed-deck") == {"Q": card_id}
    pages.delete("renamed-deck")
    assert all_cards()[card_id] == ("Q", True)
    admin = db.session.get(User, users["admin"].id)
    number = pages.get_any_page("renamed-deck").revision_number
    pages.revert("renamed-deck", number, admin)
    assert card_ids("renamed-deck") == {"Q": card_id}


def test_reverting_to_an_older_text_brings_back_its_cards(app, editor_user):
    save(None, "Old :: card", editor_user)
    old = card_ids()["Old"]
    save("deck", "New :: text entirely", editor_user)
    pages.revert("deck", 1, editor_user)
    assert card_ids() == {"Old": old}


# --- scheduling ---------------------------------------------------------------------------

def test_good_on_a_new_card_schedules_it_as_fsrs_does(app, editor_user):
    save(None, "Q :: A", editor_user)
    card_id = card_ids()["Q"]
    due = cards.grade(editor_user, card_id, 3, now=NOW)
    expected, _log = fsrs.Scheduler().review_card(fsrs.Card(card_id=card_id), fsrs.Rating.Good,
                                                  review_datetime=NOW)
    assert expected.due - NOW == timedelta(minutes=10)  # the second learning step
    stored = db.session.get(CardSchedule, (editor_user.id, card_id))
    assert stored.due.replace(tzinfo=UTC) == expected.due
    assert (stored.state, stored.step) == (int(expected.state), expected.step)
    assert stored.stability == pytest.approx(expected.stability)
    assert due == expected.due


def test_the_review_log_keeps_every_grading(app, editor_user):
    save(None, "Q :: A", editor_user)
    card_id = card_ids()["Q"]
    cards.grade(editor_user, card_id, 3, now=NOW)
    cards.grade(editor_user, card_id, 4, now=NOW + timedelta(days=2))
    logs = db.session.scalars(select(ReviewLog).order_by(ReviewLog.id)).all()
    assert [(log.card_id, log.user_id, log.rating, log.state) for log in logs] == [
        (card_id, editor_user.id, 3, 0), (card_id, editor_user.id, 4, 1)]
    assert [log.elapsed_days for log in logs] == [0, pytest.approx(2)]


def test_each_user_has_their_own_schedule(app, editor_user, users):
    save(None, "Q :: A", editor_user)
    card_id = card_ids()["Q"]
    reader = db.session.get(User, users["reader"].id)
    cards.grade(reader, card_id, 3, now=NOW)
    assert cards.next_card(reader, now=NOW) is None  # due again in ten minutes
    assert cards.next_card(reader, now=NOW + timedelta(minutes=11)).id == card_id
    assert cards.next_card(editor_user, now=NOW).id == card_id  # still new to the editor
    assert cards.schedule_of(editor_user, db.session.get(Card, card_id)) is None


def test_new_cards_per_day_limits_the_new_cards_shown(app, editor_user):
    save(None, "One :: 1\nTwo :: 2", editor_user)
    cards.set_new_cards_per_day(editor_user.id, 1)
    user = db.session.get(User, editor_user.id)
    first = cards.next_card(user, now=NOW)
    cards.grade(user, first.id, 4, now=NOW)
    assert cards.next_card(user, now=NOW + timedelta(minutes=1)) is None
    waiting = cards.nothing_due(user, now=NOW + timedelta(minutes=1))
    assert waiting.new_waiting and waiting.new_left_today == 0 and waiting.next_due > NOW
    assert cards.next_card(user, now=NOW + timedelta(days=1, hours=1)) is not None


@pytest.mark.parametrize("rating", [0, 5, -1])
def test_a_rating_outside_one_to_four_is_refused(app, editor_user, rating):
    save(None, "Q :: A", editor_user)
    with pytest.raises(cards.ReviewError, match="Again"):
        cards.grade(editor_user, card_ids()["Q"], rating)


# --- through HTTP -------------------------------------------------------------------------

@pytest.fixture
def deck(app, users):
    """Pages with cards: "deck" (tagged flask), its sub-page, and "other"."""
    with app.app_context():
        editor = db.session.get(User, users["editor"].id)
        pages.save(pages.PageEdit(None, "Deck", "Capital of France :: Paris", tags="flask"),
                   editor)
        pages.save(pages.PageEdit(None, "deck/sub", "Sub question :: sub answer"), editor)
        pages.save(pages.PageEdit(None, "Other", "Other question :: other answer"), editor)
        return {card.question: card.id for card in db.session.scalars(select(Card))}


@pytest.fixture
def reader(auth):
    auth.login("reader")
    return auth.client


def test_visitors_are_sent_to_sign_in(client, deck):
    response = client.get("/review")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_reader_reviews_a_card_without_javascript(reader, deck):
    page = reader.get("/review")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Capital of France" in html and "Paris" not in html
    card_id = deck["Capital of France"]
    assert f'/review/{card_id}?show=1' in html
    shown = reader.get(f"/review/{card_id}?show=1").get_data(as_text=True)
    assert "Paris" in shown and 'name="rating" value="3"' in shown
    graded = reader.post(f"/review/{card_id}", data={"csrf_token": csrf_token(shown),
                                                    "rating": "3"})
    assert graded.status_code == 303 and graded.headers["Location"] == "/review"
    assert "Sub question" in reader.get("/review").get_data(as_text=True)


@pytest.mark.parametrize("rating", ["", "7", "abc", "0", "99999999999999999999"])
def test_a_bad_rating_is_a_400_that_says_why(reader, deck, rating):
    card_id = deck["Capital of France"]
    html = reader.get(f"/review/{card_id}?show=1").get_data(as_text=True)
    response = reader.post(f"/review/{card_id}", data={"csrf_token": csrf_token(html),
                                                      "rating": rating})
    assert response.status_code == 400
    assert "1 (Again), 2 (Hard), 3 (Good) or 4 (Easy)" in response.get_data(as_text=True)


def test_grading_answers_json_to_the_script(reader, deck):
    card_id = deck["Capital of France"]
    html = reader.get(f"/review/{card_id}?show=1").get_data(as_text=True)
    response = reader.post(f"/review/{card_id}?under=deck",
                           data={"csrf_token": csrf_token(html), "rating": "4"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json["next"] == "/review?under=deck"
    assert datetime.fromisoformat(response.json["due"]) > datetime.now(UTC)


def test_review_narrows_to_a_page_and_its_sub_pages_or_a_tag(reader, deck):
    under = reader.get("/review?under=deck").get_data(as_text=True)
    assert "Capital of France" in under
    html = reader.get(f"/review/{deck['Capital of France']}?show=1&under=deck").get_data(
        as_text=True)
    reader.post(f"/review/{deck['Capital of France']}?under=deck",
                data={"csrf_token": csrf_token(html), "rating": "4"})
    assert "Sub question" in reader.get("/review?under=deck").get_data(as_text=True)
    assert "Nothing to review" in reader.get("/review?tag=flask").get_data(as_text=True)
    assert "Nothing to review" in reader.get("/review?under=deck/sub/none").get_data(
        as_text=True)


def test_nothing_due_says_when_and_links_to_the_pages_with_cards(reader, deck):
    for card_id in deck.values():
        html = reader.get(f"/review/{card_id}?show=1").get_data(as_text=True)
        reader.post(f"/review/{card_id}", data={"csrf_token": csrf_token(html), "rating": "4"})
    html = reader.get("/review").get_data(as_text=True)
    assert "Nothing to review now" in html
    assert re.search(r"Your next card is due <time[^>]*>in \d+ days</time>", html)
    assert 'href="/wiki/deck"' in html and 'href="/review?under=other"' in html


def test_a_retired_or_unknown_card_is_404(reader, deck, app, users):
    with app.app_context():
        editor = db.session.get(User, users["editor"].id)
        pages.save(pages.PageEdit("other", "Other", "No cards now."), editor)
    assert reader.get(f"/review/{deck['Other question']}").status_code == 404
    assert reader.get("/review/99999999999999").status_code == 404


def test_the_page_view_counts_its_cards_and_links_to_review_them(reader, deck):
    html = reader.get("/wiki/deck").get_data(as_text=True)
    assert 'href="/review?under=deck">Review this page (1 review card)</a>' in html


def test_stats_show_due_counts_retention_states_and_a_chart(reader, deck, app, users):
    with app.app_context():
        user = db.session.get(User, users["reader"].id)
        card_id = deck["Capital of France"]
        cards.grade(user, card_id, 4, now=datetime.now(UTC) - timedelta(days=20))
        cards.grade(user, card_id, 1, now=datetime.now(UTC) - timedelta(days=1))
    html = reader.get("/review/stats").get_data(as_text=True)
    assert '<svg viewBox="0 0 728 182" role="img"' in html
    assert html.count('class="chart__bar"') == 2 and 'fill="currentColor"' in html
    assert "2 reviews in the last 91 days" in html
    assert "<dt>True retention, last 30 days</dt><dd>0%" in html
    assert "<dt>New</dt><dd>2</dd>" in html and "<dt>Learning</dt><dd>1</dd>" in html


def test_new_cards_per_day_is_set_on_the_account_page(reader, deck):
    response = submit(reader, "/account", {"new_cards_per_day": "1",
                                           "save_review_settings": "Save review settings"})
    assert response.status_code == 303
    assert 'value="1"' in reader.get("/account").get_data(as_text=True)
    refused = submit(reader, "/account", {"new_cards_per_day": "5000",
                                          "save_review_settings": "Save review settings"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "from 0 to 1000" in html and 'value="5000"' in html


# --- other ways text arrives ----------------------------------------------------------------

def test_imported_pages_bring_their_cards(app, runner, tmp_path):
    (tmp_path / "deck.md").write_text("# Imported deck\n\nImported question :: its answer\n")
    result = runner.invoke(args=["pages", "import", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert list(card_ids("imported-deck")) == ["Imported question"]


def test_the_shipped_notes_have_no_cards(app, notes):
    with app.app_context():
        assert db.session.scalars(select(Card)).all() == []


def test_reindexing_finds_the_cards_of_pages_saved_before_cards(app, editor_user, runner):
    save(None, "Old question :: old answer", editor_user)
    db.session.execute(Card.__table__.delete())
    db.session.commit()
    assert runner.invoke(args=["pages", "reindex"]).exit_code == 0
    assert list(card_ids()) == ["Old question"]


def test_cards_of_a_page_hidden_from_the_reader_are_never_shown_offered_or_counted(
        reader, deck, app, users):
    """Graded while the page was open, then hidden by an access rule: its card is gone from
    the queue, the stats (counts, retention, chart) and ?under= as if it never existed."""
    with app.app_context():
        user = db.session.get(User, users["reader"].id)
        cards.grade(user, deck["Other question"], 3, now=datetime.now(UTC) - timedelta(days=2))
        admin = db.session.get(User, users["admin"].id)
        access.add_rule("other", "editor", "editor", admin)
    stats = reader.get("/review/stats").get_data(as_text=True)
    assert "<dt>New</dt><dd>2</dd>" in stats and "<dt>Learning</dt><dd>0</dd>" in stats
    assert "0 reviews in the last 91 days" in stats and 'class="chart__bar"' not in stats
    assert "<dt>Due today</dt><dd>0</dd>" in stats
    under = reader.get("/review?under=other").get_data(as_text=True)
    assert "Nothing to review" in under and "Other question" not in under
    assert "other answer" not in under and "review?under=other" not in under.split(
        "Nothing to review", 1)[1]
    assert reader.get(f"/review/{deck['Other question']}?show=1").status_code == 404
    signed = re.compile(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}")  # CSRF tokens: timestamped
    assert signed.sub("", reader.get(f"/review/{deck['Other question']}").get_data(
        as_text=True)) == signed.sub("", reader.get("/review/99999999").get_data(as_text=True))
    for card_id in (deck["Capital of France"], deck["Sub question"]):
        html = reader.get(f"/review/{card_id}?show=1").get_data(as_text=True)
        reader.post(f"/review/{card_id}", data={"csrf_token": csrf_token(html), "rating": "4"})
    done = reader.get("/review").get_data(as_text=True)
    assert "Nothing to review now" in done and "Other question" not in done
    assert 'href="/review?under=other"' not in done and 'href="/wiki/other"' not in done


# --- work done ----------------------------------------------------------------------------

def reads_of(table: str, statements: list[str]) -> int:
    """The SELECTs whose FROM is *table* ("user" is quoted on PostgreSQL)."""
    return sum(bool(re.match(rf'SELECT\b.*\bFROM "?{table}"?(?!\w)', statement, re.S))
               for statement in statements)


def grading_statements(app, browser, card_id: int) -> list[str]:
    """The SQL statements that grading *card_id* Good through the form sends."""
    shown = browser.get(f"/review/{card_id}?show=1").get_data(as_text=True)
    with sql_statements(app) as statements:
        graded = browser.post(f"/review/{card_id}",
                              data={"csrf_token": csrf_token(shown), "rating": "3"})
    assert graded.status_code == 303
    return statements


def add_review_log(app, user_id: int, card_id: int, rows: int) -> None:
    """*rows* past gradings of the card by the user, inserted in one statement."""
    with app.app_context():
        db.session.execute(insert(ReviewLog), [
            {"card_id": card_id, "user_id": user_id, "rating": 3, "state": 2,
             "elapsed_days": 1.0, "reviewed_at": NOW - timedelta(days=day)}
            for day in range(rows)])
        db.session.commit()


def test_grading_does_the_same_work_however_long_the_review_log(app, users, reader, deck):
    """Each grading reads the user once, the card with its page (the access check), then in
    the write the card again with the user's schedule of it (still active?), whatever the
    number of past gradings: nothing loads the log."""
    card_id = deck["Capital of France"]
    add_review_log(app, users["reader"].id, card_id, 50)
    few = grading_statements(app, reader, card_id)
    add_review_log(app, users["reader"].id, card_id, 150)
    many = grading_statements(app, reader, card_id)
    assert len(many) == len(few)
    assert reads_of("user", many) == 1
    assert reads_of("card", many) == 2
    assert reads_of("page", many) == reads_of("card_schedule", many) == 0
    assert not any(re.search(r"\breview_log\b", statement) for statement in many
                   if statement.startswith("SELECT"))


def test_the_next_due_card_comes_with_its_schedule(app, users, reader, deck):
    """The due-card query brings the user's schedule along: showing the card reads no more."""
    with app.app_context():
        user = db.session.get(User, users["reader"].id)
        cards.grade(user, deck["Capital of France"], 3, now=datetime.now(UTC) - timedelta(days=30))
    with sql_statements(app) as statements:
        shown = reader.get("/review")
    assert "Capital of France" in shown.get_data(as_text=True)
    assert reads_of("card_schedule", statements) == 0
