"""The desk speaks the agent's language (``staff.Agent.language``, issue 14).

Everything under ``/desk/`` is outside ``i18n_patterns``, so LocaleMiddleware gives it
the site's language (Italian); an agent who chose another language gets it here. It
runs after AuthenticationMiddleware (it needs the user) and before the view, so the
templates, the messages and the ``Content-Language`` header all follow the choice.
"""

from __future__ import annotations

from django.utils import translation

from sportello.staff import roles

DESK_PREFIX = "/desk/"


class AgentLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(DESK_PREFIX):
            agent = roles.agent_for(getattr(request, "user", None))
            if agent is not None and agent.language:
                translation.activate(agent.language)
                request.LANGUAGE_CODE = agent.language
        return self.get_response(request)
