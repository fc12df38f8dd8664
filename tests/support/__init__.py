"""What the tests share, other than fixtures (those are in tests/conftest.py).

    project     where the project is, and the environment its programs run in
    kinds       the four kinds of test (unit, e2e, cluster, browser), enforced
    assistant   the server launcher: an action server and a Rasa server on
                free loopback ports, spoken to over the REST channel
    replies     the openings of the replies the tests expect
    booking     a booking over REST, and the bookings as staff list them
    load        many conversations at once, and the order their turns were stored in
    web         web/ served on loopback; the demo page and its widget in a browser
    webchat     the website chat's socket.io protocol, spoken by hand
    channels    the platform channels' servers and the fake Graph and Twilio APIs
    visitors    a visitor on Messenger, WhatsApp or Twilio, in the platforms' shapes
    cluster     throwaway PostgreSQL and Redis servers for the cluster tests
    staff       a copy of the project, and the staff command run on it
"""
