from scheduling.pause import publishing_pause_banner


def publishing_pause(request):
    """The emergency pause banner on every page of a signed-in person (read from the cache: no query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"publishing_pause": publishing_pause_banner()}
