"""Stage 4, the web app: what app.py's Gradio layout calls."""
