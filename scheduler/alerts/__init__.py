"""Alerts: what the scheduler does with the watches of a config. `setup` holds what it is
given (watches, channels, delivery settings), `steps` the hook of a poll's transaction
that fills the outbox, `messages` the text of a message, `channels` the sending to a
webhook or an apprise URL, `sender` the loop of the daemon that delivers."""
