from socialdesk.access import Capability, capabilities_of


def desk(request):
    """What every page's layout needs: the navigation the person may see."""
    can = capabilities_of(request.user) if hasattr(request, "user") else frozenset()
    return {"can": {capability.value: capability in can for capability in Capability}}
