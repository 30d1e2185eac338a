from hub.vocabulary import Role


def test_home_needs_sign_in(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"


def test_signed_in_home_names_the_role(sign_in):
    prosecutor = sign_in(Role.prosecutor)
    response = prosecutor.client.get("/")
    assert response.status_code == 200
    assert "prosecutor" in response.text
