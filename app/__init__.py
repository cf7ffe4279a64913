"""The application: Qt GUI in ``affectscope.app.qt``; everything else here is Qt-free."""
