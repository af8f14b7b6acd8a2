"""The Textual front end: app, screens, widgets, themes and commands (imports scheduler, api)."""
