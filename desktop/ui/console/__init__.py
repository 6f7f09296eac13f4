"""Provincial IT's console: the screens of a provincial profile (role ``province``).

The same app, look and keyboard habits as the clerk screens, in its own shell
(:mod:`desktop.ui.console.shell`): conflict inbox, conflict view, duplicate review, devices,
sync health and statistics. Every screen reads and acts through ``services.console`` (a
``desktop.console.service.ConsoleService``) on the task runner's workers, never on the Tk thread.
"""
