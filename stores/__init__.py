"""The Rasa server's stores, named in endpoints*.yml: the tracker store that
keeps conversations (masked, and erased on request) and the lock store of
cluster mode under which a conversation's turns run one at a time."""
