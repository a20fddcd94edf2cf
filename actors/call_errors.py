"""The errors a call to an actor raises when the actor cannot answer: it died, it is restarting,
or the answer did not come in time. A caller turns them into UNAVAILABLE or a retry, never into
an answer."""

from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError

ACTOR_CALL_ERRORS = (RayActorError, ActorUnavailableError, GetTimeoutError, TimeoutError)
