"""``GET /healthz`` tells a load balancer whether this process can reach its database."""

from wiki import create_app


def test_healthz_answers_ok_without_a_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_even_when_anonymous_reading_is_off(make_app):
    client = make_app(ANONYMOUS_READ=False).test_client()
    assert client.get("/pages").status_code != 200  # the wiki itself wants a login
    assert client.get("/healthz").status_code == 200


def test_healthz_answers_503_when_the_database_cannot_be_reached(tmp_path, caplog):
    unreachable = tmp_path / "no-such-folder" / "wiki.sqlite"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "DATABASE_URL": f"sqlite:///{unreachable}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "unable to open database file" not in response.get_data(as_text=True)
    assert "the database does not answer" in caplog.text  # the reason is logged, not shown
    assert not unreachable.parent.exists()
