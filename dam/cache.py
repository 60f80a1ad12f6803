"""Django's Redis cache, keeping one redis-py client per connection pool instead of building a new one for every
call: building one copies redis-py's table of response callbacks, about 0.3 ms on a busy 2-core machine, and every
API request makes two cache calls (the token cache and the throttle). A redis-py client is safe to share between
threads; the connections stay in the pool as before."""
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClients(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClients
