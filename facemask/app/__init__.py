"""The app stage (the top layer, ARCHITECTURE.md): what app.py's Gradio layout calls."""
