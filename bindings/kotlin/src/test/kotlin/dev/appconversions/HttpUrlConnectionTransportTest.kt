package dev.appconversions

import java.io.IOException
import java.net.InetSocketAddress
import java.net.Proxy
import java.net.ProxySelector
import java.net.ServerSocket
import java.net.Socket
import java.net.SocketAddress
import java.net.URI
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * The default transport: `Conversions.start` sends through `HttpURLConnection` (every test
 * of [SandboxTest] delivers that way), which follows the JVM's and Android's system proxy,
 * answers the SDK's rules need (3xx as answers, statuses as answers), and maps failures to
 * `TransportException`.
 */
class HttpUrlConnectionTransportTest : SandboxTest() {
    @Test
    fun `events reach the sandbox through the system proxy`() = runBlocking {
        val proxy = CountingProxy()
        val previous = ProxySelector.getDefault()
        ProxySelector.setDefault(object : ProxySelector() {
            override fun select(uri: URI): List<Proxy> =
                listOf(Proxy(Proxy.Type.HTTP, InetSocketAddress("127.0.0.1", proxy.port)))

            override fun connectFailed(uri: URI, address: SocketAddress, e: IOException) = Unit
        })
        try {
            val conversions = start()
            conversions.lead(SHOPPER)
            val report = conversions.flush()
            assertEquals(1, report.processed)
            assertEquals(1, sandbox.accepted().size)
            assertTrue(proxy.requests.get() >= 1, "the request went through the proxy")
        } finally {
            ProxySelector.setDefault(previous)
            proxy.close()
        }
    }

    @Test
    fun `a redirect is an answer and an unreachable host a network failure`() {
        sandbox.fault("""{"kind":"redirect","location":"http://127.0.0.1:1/elsewhere"}""")
        val transport = HttpUrlConnectionTransport()
        val request = HttpRequest(
            url = "${sandbox.baseUrl}/v5/ad_accounts/${Sandbox.AD_ACCOUNT}/events",
            headers = listOf(HttpHeader("Authorization", "Bearer ${Sandbox.TOKEN}")),
            body = """{"data":[]}""".toByteArray(),
            timeoutMs = 5_000uL,
        )
        assertEquals(307.toUShort(), transport.send(request).status)

        val closedPort = ServerSocket(0).use { it.localPort }
        val unreachable = request.copy(url = "http://127.0.0.1:$closedPort/events")
        val failure = runCatching { transport.send(unreachable) }.exceptionOrNull()
        assertTrue(failure is TransportException.Network, "got $failure")
    }
}

/** A forwarding HTTP proxy on loopback for plain `http://` requests; counts what it carried. */
private class CountingProxy : AutoCloseable {
    private val server = ServerSocket(0)
    val port: Int = server.localPort
    val requests = AtomicInteger()

    init {
        thread(isDaemon = true, name = "test-proxy") {
            while (!server.isClosed) {
                val client = runCatching { server.accept() }.getOrNull() ?: break
                thread(isDaemon = true) { runCatching { forward(client) } }
            }
        }
    }

    private fun forward(client: Socket): Unit = client.use {
        val input = client.getInputStream()
        val head = StringBuilder()
        while (!head.endsWith("\r\n\r\n")) {
            val byte = input.read()
            if (byte < 0) return@use
            head.append(byte.toChar())
        }
        requests.incrementAndGet()
        val lines = head.toString().split("\r\n")
        val (method, target, version) = lines[0].split(" ")
        val uri = URI.create(target)
        val length = lines.firstOrNull { it.startsWith("content-length:", ignoreCase = true) }
            ?.substringAfter(":")?.trim()?.toInt() ?: 0
        val body = input.readNBytes(length)
        Socket(uri.host, uri.port).use { upstream ->
            val rest = lines.drop(1).filter {
                it.isNotEmpty() && !it.startsWith("proxy-connection:", ignoreCase = true) &&
                    !it.startsWith("connection:", ignoreCase = true)
            }
            val path = uri.rawPath + (uri.rawQuery?.let { "?$it" } ?: "")
            val forwarded = "$method $path $version\r\n" + rest.joinToString("") { "$it\r\n" } +
                "Connection: close\r\n\r\n"
            upstream.getOutputStream().apply { write(forwarded.toByteArray()); write(body); flush() }
            upstream.getInputStream().transferTo(client.getOutputStream())
        }
        Unit
    }

    override fun close() = server.close()
}
