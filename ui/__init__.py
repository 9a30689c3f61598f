"""The Streamlit shell: pages and widgets only; every action is one call into `coding`."""
