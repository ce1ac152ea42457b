//! `book serve`: the rendered book on 127.0.0.1 only, with axum.

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use tower_http::services::ServeDir;

use crate::{Book, display};

/// Serves `book/build` until Ctrl-C. Port 0 picks a free port; the address is printed.
pub fn serve(book: &Book, port: u16) -> Result<(), String> {
    let root = book.html_dir();
    if !root.join("index.html").is_file() {
        return Err(format!(
            "nothing to serve: {} has no index.html (run `build` first)",
            display(&root)
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    runtime.block_on(async move {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let app = router(&root);
        println!("serving the book on http://{local}/ (Ctrl-C stops)");
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}

/// The book's routes: the static HTML (directories answer with their index.html).
pub fn router(root: &std::path::Path) -> Router {
    Router::new().fallback_service(ServeDir::new(root).append_index_html_on_directories(true))
}
